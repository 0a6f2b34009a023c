#include "widgets/figure_export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFontComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>

namespace qs::gui {

FigureExportDialog::FigureExportDialog(const QString& stem, QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("Export Figure"));
    QSettings settings;
    m_preset = new QComboBox(this);
    m_preset->addItem(tr("One column (89 mm)"), QStringLiteral("one-column"));
    m_preset->addItem(tr("Two columns (183 mm)"), QStringLiteral("two-column"));
    m_preset->addItem(tr("Screen size"), QStringLiteral("screen"));
    m_preset->setCurrentIndex(
        std::max(0, m_preset->findData(settings.value("export/preset", "one-column").toString())));

    m_font = new QFontComboBox(this);
    m_font->setCurrentFont(QFont(settings.value("export/font", "DejaVu Sans").toString()));
    m_fontSize = new QDoubleSpinBox(this);
    m_fontSize->setRange(5, 24);
    m_fontSize->setSingleStep(0.5);
    m_fontSize->setSuffix(tr(" pt"));
    m_fontSize->setValue(settings.value("export/fontSize", 8.0).toDouble());
    m_dpi = new QSpinBox(this);
    m_dpi->setRange(72, 1200);
    m_dpi->setSingleStep(50);
    m_dpi->setSuffix(tr(" dpi"));
    m_dpi->setValue(settings.value("export/dpi", 300).toInt());

    auto* formats = new QHBoxLayout;
    const QStringList chosen =
        settings.value("export/formats", QStringList{"pdf", "svg", "png", "csv"}).toStringList();
    for (const QString& format : figureFormats()) {
        auto* box = new QCheckBox(format.toUpper(), this);
        box->setProperty("format", format);
        box->setChecked(chosen.contains(format));
        formats->addWidget(box);
        m_formats << box;
    }
    formats->addStretch(1);

    m_folder = new QLineEdit(settings
                                 .value("export/folder", QStandardPaths::writableLocation(
                                                             QStandardPaths::DocumentsLocation) +
                                                             "/quantscope-figures")
                                 .toString(),
                             this);
    auto* browse = new QPushButton(tr("Browse\u2026"), this);
    connect(browse, &QPushButton::clicked, this, &FigureExportDialog::chooseFolder);
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    m_stem = new QLineEdit(stem, this);

    auto* form = new QFormLayout;
    form->addRow(tr("Size:"), m_preset);
    form->addRow(tr("Font:"), m_font);
    form->addRow(tr("Font size:"), m_fontSize);
    form->addRow(tr("PNG resolution:"), m_dpi);
    form->addRow(tr("Formats:"), formats);
    form->addRow(tr("Folder:"), folderRow);
    form->addRow(tr("File name:"), m_stem);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
}

FigureExportOptions FigureExportDialog::options() const
{
    FigureExportOptions options;
    options.style = FigureStyle::fromPreset(m_preset->currentData().toString());
    options.style.fontFamily = m_font->currentFont().family();
    options.style.fontPointSize = m_fontSize->value();
    options.style.dpi = m_dpi->value();
    options.formats.clear();
    for (const auto* box : m_formats)
        if (box->isChecked()) options.formats << box->property("format").toString();
    options.outDir = m_folder->text();
    options.stem = m_stem->text().trimmed();
    return options;
}

void FigureExportDialog::remember() const
{
    const auto o = options();
    QSettings settings;
    settings.setValue("export/preset", m_preset->currentData().toString());
    settings.setValue("export/font", o.style.fontFamily);
    settings.setValue("export/fontSize", o.style.fontPointSize);
    settings.setValue("export/dpi", o.style.dpi);
    settings.setValue("export/formats", o.formats);
    settings.setValue("export/folder", o.outDir);
}

void FigureExportDialog::chooseFolder()
{
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Export Folder"), m_folder->text());
    if (!dir.isEmpty()) m_folder->setText(dir);
}

}  // namespace qs::gui
