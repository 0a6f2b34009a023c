// The number-format part of the recipe builder: a kind (none / INT / MX / FP8) and that kind's
// fields, edited as a qs::QuantFormat (core/quant/quant_format.h names the formats). Weights and
// activations differ only in the INT granularities offered: weights per channel, group or
// tensor; activations per token, group or tensor.
#pragma once

#include <QWidget>

#include "core/quant/quant_format.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;
class QStackedWidget;

namespace qs::gui {

// A combo box that may be narrower than its longest item, eliding the text: the builder's dock
// narrows when the centre needs room, and a wide combo box would push the form past its edge.
QComboBox* narrowableComboBox(QWidget* parent);

class FormatEditor : public QWidget {
    Q_OBJECT

public:
    enum class Role { Weights, Activations };

    // Child widgets are named "<prefix>Kind", "<prefix>Bits", "<prefix>Granularity",
    // "<prefix>Group", "<prefix>Symmetric", "<prefix>Mse", "<prefix>MxElement",
    // "<prefix>MxBlock", "<prefix>MxEven", "<prefix>Fp8Variant", "<prefix>Fp8PerTensor".
    FormatEditor(Role role, const QString& prefix, QWidget* parent = nullptr);

    void setFormat(const qs::QuantFormat& format);
    qs::QuantFormat format() const;

signals:
    void changed();

private:
    void updatePages();

    Role m_role;
    bool m_updating = false;
    QComboBox* m_kind;
    QStackedWidget* m_pages;
    // INT
    QSpinBox* m_bits;
    QComboBox* m_granularity;
    QLabel* m_groupLabel;
    QSpinBox* m_group;
    QCheckBox* m_symmetric;
    QCheckBox* m_mse;
    // MX
    QComboBox* m_element;
    QComboBox* m_block;
    QCheckBox* m_even;
    // FP8
    QComboBox* m_fp8;
    QCheckBox* m_fp8Tensor;
};

}  // namespace qs::gui
