#include "widgets/recipe_builder_format.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace qs::gui {

QComboBox* narrowableComboBox(QWidget* parent)
{
    auto* combo = new QComboBox(parent);
    // Before any item or layout asks for its size: QComboBox caches its minimum size.
    combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    combo->setMinimumContentsLength(6);
    return combo;
}

namespace {

// Combo pages follow FormatKind's order.
constexpr int kPageNone = 0, kPageInt = 1, kPageMx = 2, kPageFp8 = 3;

QFormLayout* formOn(QWidget* page)
{
    auto* form = new QFormLayout(page);
    form->setContentsMargins(0, 0, 0, 0);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    return form;
}

void selectData(QComboBox* combo, int value)
{
    const int index = combo->findData(value);
    if (index >= 0) combo->setCurrentIndex(index);
}

}  // namespace

FormatEditor::FormatEditor(Role role, const QString& prefix, QWidget* parent)
    : QWidget(parent), m_role(role)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* top = new QFormLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_kind = narrowableComboBox(this);
    m_kind->setObjectName(prefix + "Kind");
    m_kind->addItem(role == Role::Weights ? tr("none (full precision)")
                                          : tr("none (weights only)"));
    m_kind->addItem(tr("INT (integer grid)"));
    m_kind->addItem(tr("MX (shared exponent)"));
    m_kind->addItem(tr("FP8"));
    top->addRow(tr("Kind"), m_kind);
    layout->addLayout(top);

    m_pages = new QStackedWidget(this);
    m_pages->addWidget(new QWidget(m_pages));

    auto* intPage = new QWidget(m_pages);
    auto* intForm = formOn(intPage);
    m_bits = new QSpinBox(intPage);
    m_bits->setObjectName(prefix + "Bits");
    m_bits->setRange(2, 8);
    m_bits->setValue(role == Role::Weights ? 4 : 8);
    m_granularity = narrowableComboBox(intPage);
    m_granularity->setObjectName(prefix + "Granularity");
    if (role == Role::Weights) {
        m_granularity->addItem(tr("per output channel"), int(Granularity::Channel));
        m_granularity->addItem(tr("per group of inputs"), int(Granularity::Group));
        m_granularity->addItem(tr("per tensor"), int(Granularity::Tensor));
    } else {
        m_granularity->addItem(tr("per token"), int(Granularity::Token));
        m_granularity->addItem(tr("per group of features"), int(Granularity::Group));
        m_granularity->addItem(tr("per tensor"), int(Granularity::Tensor));
    }
    m_group = new QSpinBox(intPage);
    m_group->setObjectName(prefix + "Group");
    m_group->setRange(2, 65536);
    m_group->setValue(128);
    m_group->setToolTip(tr("Columns sharing one scale (and zero point)"));
    m_symmetric = new QCheckBox(tr("symmetric"), intPage);
    m_symmetric->setToolTip(tr("A grid centred on zero: no zero point is stored"));
    m_symmetric->setObjectName(prefix + "Symmetric");
    m_mse = new QCheckBox(tr("MSE range search"), intPage);
    m_mse->setObjectName(prefix + "Mse");
    m_mse->setToolTip(tr("Shrink each range to the clip that minimises the squared error"));
    intForm->addRow(tr("Bits"), m_bits);
    intForm->addRow(tr("Scale"), m_granularity);
    m_groupLabel = new QLabel(tr("Group size"), intPage);
    intForm->addRow(m_groupLabel, m_group);
    intForm->addRow(QString(), m_symmetric);
    intForm->addRow(QString(), m_mse);
    m_pages->addWidget(intPage);

    auto* mxPage = new QWidget(m_pages);
    auto* mxForm = formOn(mxPage);
    m_element = narrowableComboBox(mxPage);
    m_element->setObjectName(prefix + "MxElement");
    const std::pair<const char*, MxElement> elements[] = {
        {"mxint8", MxElement::Int8},        {"mxint6", MxElement::Int6},
        {"mxint4", MxElement::Int4},        {"mxint3", MxElement::Int3},
        {"mxint2", MxElement::Int2},        {"mxfp8 e4m3", MxElement::Fp8E4M3},
        {"mxfp8 e5m2", MxElement::Fp8E5M2}, {"mxfp6 e3m2", MxElement::Fp6E3M2},
        {"mxfp6 e2m3", MxElement::Fp6E2M3}, {"mxfp4 (e2m1)", MxElement::Fp4E2M1}};
    for (const auto& [name, element] : elements)
        m_element->addItem(QString::fromLatin1(name), int(element));
    selectData(m_element, int(MxElement::Int4));
    m_block = narrowableComboBox(mxPage);
    m_block->setObjectName(prefix + "MxBlock");
    for (int block : {16, 32, 64, 128})
        m_block->addItem(QString::number(block), block);
    selectData(m_block, 32);
    m_block->setToolTip(tr("Elements sharing one 8-bit exponent, along the input dimension"));
    m_even = new QCheckBox(tr("round half to even"), mxPage);
    m_even->setObjectName(prefix + "MxEven");
    mxForm->addRow(tr("Element"), m_element);
    mxForm->addRow(tr("Block size"), m_block);
    mxForm->addRow(QString(), m_even);
    m_pages->addWidget(mxPage);

    auto* fp8Page = new QWidget(m_pages);
    auto* fp8Form = formOn(fp8Page);
    m_fp8 = narrowableComboBox(fp8Page);
    m_fp8->setObjectName(prefix + "Fp8Variant");
    m_fp8->addItem(QStringLiteral("e4m3"), int(Fp8Variant::E4M3));
    m_fp8->addItem(QStringLiteral("e5m2"), int(Fp8Variant::E5M2));
    m_fp8Tensor = new QCheckBox(tr("one scale per tensor"), fp8Page);
    m_fp8Tensor->setObjectName(prefix + "Fp8PerTensor");
    m_fp8Tensor->setToolTip(role == Role::Weights ? tr("Otherwise one scale per output channel")
                                                  : tr("Otherwise one scale per token"));
    fp8Form->addRow(tr("Variant"), m_fp8);
    fp8Form->addRow(QString(), m_fp8Tensor);
    m_pages->addWidget(fp8Page);
    layout->addWidget(m_pages);

    auto changedNow = [this] {
        if (m_updating) return;
        updatePages();
        emit changed();
    };
    connect(m_kind, &QComboBox::currentIndexChanged, this, changedNow);
    connect(m_granularity, &QComboBox::currentIndexChanged, this, changedNow);
    for (QComboBox* combo : {m_element, m_block, m_fp8})
        connect(combo, &QComboBox::currentIndexChanged, this, changedNow);
    for (QSpinBox* spin : {m_bits, m_group})
        connect(spin, &QSpinBox::valueChanged, this, changedNow);
    for (QCheckBox* box : {m_symmetric, m_mse, m_even, m_fp8Tensor})
        connect(box, &QCheckBox::toggled, this, changedNow);
    updatePages();
}

void FormatEditor::updatePages()
{
    m_pages->setCurrentIndex(m_kind->currentIndex());
    const bool group = m_granularity->currentData().toInt() == int(Granularity::Group);
    m_group->setVisible(group);
    m_groupLabel->setVisible(group);
    // Only the current page takes space (QStackedWidget sizes to the largest page otherwise).
    for (int i = 0; i < m_pages->count(); ++i)
        m_pages->widget(i)->setSizePolicy(QSizePolicy::Preferred, i == m_pages->currentIndex()
                                                                      ? QSizePolicy::Preferred
                                                                      : QSizePolicy::Ignored);
    m_pages->setVisible(m_kind->currentIndex() != kPageNone);
    m_pages->adjustSize();
}

void FormatEditor::setFormat(const qs::QuantFormat& f)
{
    m_updating = true;
    switch (f.kind) {
        case FormatKind::None:
            m_kind->setCurrentIndex(kPageNone);
            break;
        case FormatKind::Int: {
            m_kind->setCurrentIndex(kPageInt);
            m_bits->setValue(f.bits);
            // Channel and token both mean "one range per row" in the role's terms.
            Granularity g = f.granularity;
            if (m_role == Role::Weights && g == Granularity::Token) g = Granularity::Channel;
            if (m_role == Role::Activations && g == Granularity::Channel) g = Granularity::Token;
            selectData(m_granularity, int(g));
            if (f.group_size > 0) m_group->setValue(f.group_size);
            m_symmetric->setChecked(f.symmetric);
            m_mse->setChecked(f.mse);
            break;
        }
        case FormatKind::Mx:
            m_kind->setCurrentIndex(kPageMx);
            selectData(m_element, int(f.element));
            selectData(m_block, f.block_size);
            m_even->setChecked(f.rounding == Rounding::Even);
            break;
        case FormatKind::Fp8:
            m_kind->setCurrentIndex(kPageFp8);
            selectData(m_fp8, int(f.fp8));
            m_fp8Tensor->setChecked(f.granularity == Granularity::Tensor);
            break;
    }
    m_updating = false;
    updatePages();
}

qs::QuantFormat FormatEditor::format() const
{
    QuantFormat f;
    switch (m_kind->currentIndex()) {
        case kPageInt:
            f.kind = FormatKind::Int;
            f.bits = m_bits->value();
            f.granularity = Granularity(m_granularity->currentData().toInt());
            f.group_size = f.granularity == Granularity::Group ? m_group->value() : 0;
            f.symmetric = m_symmetric->isChecked();
            f.mse = m_mse->isChecked();
            break;
        case kPageMx:
            f.kind = FormatKind::Mx;
            f.element = MxElement(m_element->currentData().toInt());
            f.block_size = m_block->currentData().toInt();
            f.rounding = m_even->isChecked() ? Rounding::Even : Rounding::Nearest;
            break;
        case kPageFp8:
            f.kind = FormatKind::Fp8;
            f.fp8 = Fp8Variant(m_fp8->currentData().toInt());
            f.granularity = m_fp8Tensor->isChecked() ? Granularity::Tensor : Granularity::Channel;
            break;
        default:
            break;
    }
    return f;
}

}  // namespace qs::gui
