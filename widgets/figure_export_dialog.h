// "Export Figure" dialog: preset (one column 89 mm, two columns 183 mm, screen size), font
// family and size, PNG resolution, formats and output folder. The choices are remembered
// (QSettings) so a paper's figures come out alike across sessions.
#pragma once

#include <QDialog>

#include "widgets/figure_export.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFontComboBox;
class QLineEdit;
class QSpinBox;

namespace qs::gui {

class FigureExportDialog : public QDialog {
    Q_OBJECT

public:
    // `stem`: the file stem proposed for the figure ("pareto-wikitext2").
    FigureExportDialog(const QString& stem, QWidget* parent = nullptr);

    FigureExportOptions options() const;
    // Stores the current choices for the next dialog.
    void remember() const;

private:
    void chooseFolder();

    QComboBox* m_preset = nullptr;
    QFontComboBox* m_font = nullptr;
    QDoubleSpinBox* m_fontSize = nullptr;
    QSpinBox* m_dpi = nullptr;
    QList<QCheckBox*> m_formats;
    QLineEdit* m_folder = nullptr;
    QLineEdit* m_stem = nullptr;
};

}  // namespace qs::gui
