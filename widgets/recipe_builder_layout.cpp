// RecipeBuilder's controls, section by section (the logic is in recipe_builder.cpp).
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include "widgets/recipe_builder.h"
#include "widgets/recipe_builder_format.h"

namespace qs::gui {

namespace {

const QColor kWarningColour(0xE6, 0x9F, 0x00);  // Okabe-Ito orange
const QColor kErrorColour(0xD5, 0x5E, 0x00);    // Okabe-Ito vermillion

QFormLayout* compactForm(QWidget* parent)
{
    auto* form = new QFormLayout(parent);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);
    return form;
}

// A message box-like label: a tinted band with the colour as left border, the text in the
// normal text colour (orange text on a light window is hard to read).
QLabel* messageLabel(QWidget* parent, const QColor& colour, const QString& name)
{
    auto* label = new QLabel(parent);
    label->setObjectName(name);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setStyleSheet(QStringLiteral("QLabel#%1 { background: rgba(%2, %3, %4, 40); "
                                        "border-left: 3px solid %5; padding: 3px 4px; }")
                             .arg(name)
                             .arg(colour.red())
                             .arg(colour.green())
                             .arg(colour.blue())
                             .arg(colour.name()));
    label->hide();
    return label;
}

QToolButton* iconButton(QWidget* parent, QStyle::StandardPixmap icon, const QString& tip,
                        const QString& name)
{
    auto* button = new QToolButton(parent);
    button->setIcon(parent->style()->standardIcon(icon));
    button->setToolTip(tip);
    button->setObjectName(name);
    return button;
}

}  // namespace

QWidget* RecipeBuilder::createMethods()
{
    auto* box = new QGroupBox(tr("Methods, in order"), this);
    auto* layout = new QVBoxLayout(box);
    auto* row = new QHBoxLayout;
    m_methods = new QListWidget(box);
    m_methods->setObjectName(QStringLiteral("methodList"));
    m_methods->setToolTip(
        tr("Applied top to bottom to each layer; RTN rounds the weights when "
           "no GPTQ is listed"));
    m_methods->setMaximumHeight(m_methods->fontMetrics().height() * 4 + 12);  // 4 methods at most
    row->addWidget(m_methods, 1);
    auto* buttons = new QVBoxLayout;
    m_add = new QToolButton(box);
    m_add->setObjectName(QStringLiteral("addMethod"));
    m_add->setText(tr("Add"));
    m_add->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(m_add);
    const std::pair<Method, QString> methods[] = {
        {Method::Rtn, tr("RTN (round to nearest)")},
        {Method::Gptq, tr("GPTQ (error-compensating rounding)")},
        {Method::Awq, tr("AWQ (activation-aware scaling)")},
        {Method::SmoothQuant, tr("SmoothQuant (migrate activation outliers)")}};
    for (const auto& [method, text] : methods) {
        QAction* action = menu->addAction(text, this, [this, m = method] { addMethod(m); });
        action->setObjectName(QStringLiteral("add_") + QString::fromStdString(method_name(method)));
    }
    m_add->setMenu(menu);
    m_up = iconButton(box, QStyle::SP_ArrowUp, tr("Move up"), QStringLiteral("methodUp"));
    m_down = iconButton(box, QStyle::SP_ArrowDown, tr("Move down"), QStringLiteral("methodDown"));
    m_remove = iconButton(box, QStyle::SP_DialogDiscardButton, tr("Remove"),
                          QStringLiteral("methodRemove"));
    for (QToolButton* b : {m_add, m_up, m_down, m_remove})
        buttons->addWidget(b);
    buttons->addStretch(1);
    row->addLayout(buttons);
    layout->addLayout(row);
    m_orderWarning = messageLabel(box, kWarningColour, QStringLiteral("orderWarning"));
    layout->addWidget(m_orderWarning);
    connect(m_up, &QToolButton::clicked, this, [this] { moveMethod(-1); });
    connect(m_down, &QToolButton::clicked, this, [this] { moveMethod(+1); });
    connect(m_remove, &QToolButton::clicked, this, &RecipeBuilder::removeMethod);
    connect(m_methods, &QListWidget::currentRowChanged, this, &RecipeBuilder::refresh);
    return box;
}

QWidget* RecipeBuilder::createFormats()
{
    auto* holder = new QWidget(this);
    auto* layout = new QVBoxLayout(holder);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* weights = new QGroupBox(tr("Weight format"), holder);
    auto* wl = new QVBoxLayout(weights);
    m_weights = new FormatEditor(FormatEditor::Role::Weights, QStringLiteral("weights"), weights);
    wl->addWidget(m_weights);
    layout->addWidget(weights);

    auto* acts = new QGroupBox(tr("Activation format"), holder);
    auto* al = new QVBoxLayout(acts);
    m_activations =
        new FormatEditor(FormatEditor::Role::Activations, QStringLiteral("activations"), acts);
    al->addWidget(m_activations);
    auto* rangeForm = new QFormLayout;
    rangeForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_ranges = narrowableComboBox(acts);
    m_ranges->setObjectName(QStringLiteral("activationRanges"));
    m_ranges->addItem(tr("dynamic (from each token)"));
    m_ranges->addItem(tr("static (calibrated once)"));
    m_ranges->setToolTip(
        tr("Static: one scale per linear input from the calibration MinMax "
           "(INT and FP8 only)"));
    rangeForm->addRow(tr("Ranges"), m_ranges);
    al->addLayout(rangeForm);
    layout->addWidget(acts);
    connect(m_weights, &FormatEditor::changed, this, &RecipeBuilder::refresh);
    connect(m_activations, &FormatEditor::changed, this, &RecipeBuilder::refresh);
    connect(m_ranges, &QComboBox::currentIndexChanged, this, &RecipeBuilder::refresh);
    return holder;
}

QWidget* RecipeBuilder::createCalibration()
{
    auto* box = new QGroupBox(tr("Calibration"), this);
    auto* form = compactForm(box);
    auto* datasetRow = new QHBoxLayout;
    m_dataset = new QLineEdit(box);
    m_dataset->setObjectName(QStringLiteral("calibrationDataset"));
    m_dataset->setPlaceholderText(tr("none: text generated by the model"));
    auto* browse = new QToolButton(box);
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(tr("Choose a calibration text file"));
    datasetRow->addWidget(m_dataset, 1);
    datasetRow->addWidget(browse);
    form->addRow(tr("Dataset"), datasetRow);
    m_samples = new QSpinBox(box);
    m_samples->setObjectName(QStringLiteral("calibrationSamples"));
    m_samples->setRange(1, 100000);
    m_seqlen = new QSpinBox(box);
    m_seqlen->setObjectName(QStringLiteral("calibrationSeqlen"));
    m_seqlen->setRange(2, 1 << 20);
    m_seed = new QSpinBox(box);
    m_seed->setObjectName(QStringLiteral("calibrationSeed"));
    m_seed->setRange(0, 1 << 30);
    // One row each: side by side they would widen the dock's form past a narrow dock.
    form->addRow(tr("Windows"), m_samples);
    form->addRow(tr("Tokens each"), m_seqlen);
    m_samples->setToolTip(tr("Number of calibration windows"));
    m_seqlen->setToolTip(tr("Tokens per calibration window"));
    form->addRow(tr("Seed"), m_seed);
    m_calibrationNote = new QLabel(box);
    m_calibrationNote->setObjectName(QStringLiteral("calibrationNote"));
    m_calibrationNote->setWordWrap(true);
    m_calibrationNote->setEnabled(false);
    m_calibrationNote->setText(
        tr("Differs from the session's calibration: this recipe "
           "calibrates on its own (no shared inputs or Hessians)."));
    m_calibrationNote->hide();
    form->addRow(m_calibrationNote);
    connect(browse, &QToolButton::clicked, this, &RecipeBuilder::chooseDataset);
    connect(m_dataset, &QLineEdit::textChanged, this, &RecipeBuilder::refresh);
    for (QSpinBox* spin : {m_samples, m_seqlen, m_seed})
        connect(spin, &QSpinBox::valueChanged, this, &RecipeBuilder::refresh);
    return box;
}

QWidget* RecipeBuilder::createSettings()
{
    auto* holder = new QWidget(this);
    auto* layout = new QVBoxLayout(holder);
    layout->setContentsMargins(0, 0, 0, 0);

    m_gptqBox = new QGroupBox(tr("GPTQ"), holder);
    auto* g = compactForm(m_gptqBox);
    m_blocksize = new QSpinBox(m_gptqBox);
    m_blocksize->setObjectName(QStringLiteral("gptqBlocksize"));
    m_blocksize->setRange(1, 4096);
    m_damp = new QDoubleSpinBox(m_gptqBox);
    m_damp->setObjectName(QStringLiteral("gptqDamp"));
    m_damp->setDecimals(4);
    m_damp->setRange(0.0, 1.0);
    m_damp->setSingleStep(0.01);
    m_damp->setToolTip(tr("Dampening: fraction of the mean Hessian diagonal added to it"));
    m_microBlock = new QSpinBox(m_gptqBox);
    m_microBlock->setObjectName(QStringLiteral("gptqMicroBlock"));
    m_microBlock->setRange(0, 1024);
    m_microBlock->setSpecialValueText(tr("off"));
    m_microBlock->setToolTip(
        tr("MX micro-block: quantize this many columns at a time "
           "(the block size of an MX format)"));
    m_actOrder = new QCheckBox(tr("act-order"), m_gptqBox);
    m_actOrder->setToolTip(tr("Quantize the columns with the largest Hessian diagonal first"));
    m_actOrder->setObjectName(QStringLiteral("gptqActOrder"));
    m_staticGroups = new QCheckBox(tr("static groups"), m_gptqBox);
    m_staticGroups->setObjectName(QStringLiteral("gptqStaticGroups"));
    m_staticGroups->setToolTip(tr("Group scales fixed before act-order reorders the columns"));
    m_trueSequential = new QCheckBox(tr("true sequential"), m_gptqBox);
    m_trueSequential->setObjectName(QStringLiteral("gptqTrueSequential"));
    m_trueSequential->setToolTip(
        tr("Re-capture inputs after each stage (q/k/v, o, gate/up, down)"));
    g->addRow(tr("Block size"), m_blocksize);
    g->addRow(tr("Damping"), m_damp);
    g->addRow(tr("Micro-block"), m_microBlock);
    g->addRow(m_actOrder);
    g->addRow(m_staticGroups);
    g->addRow(m_trueSequential);
    layout->addWidget(m_gptqBox);

    m_awqBox = new QGroupBox(tr("AWQ"), holder);
    auto* a = compactForm(m_awqBox);
    m_grid = new QSpinBox(m_awqBox);
    m_grid->setObjectName(QStringLiteral("awqGrid"));
    m_grid->setRange(1, 1000);
    m_grid->setToolTip(tr("Points of the scale exponent search in [0, 1)"));
    m_clip = new QCheckBox(tr("clip search"), m_awqBox);
    m_clip->setObjectName(QStringLiteral("awqClip"));
    m_duo = new QCheckBox(tr("duo scaling"), m_awqBox);
    m_duo->setObjectName(QStringLiteral("awqDuo"));
    m_duo->setToolTip(tr("Scales from activations and weights (AutoAWQ's duo_scaling)"));
    a->addRow(tr("Grid"), m_grid);
    auto* awqFlags = new QHBoxLayout;
    awqFlags->addWidget(m_clip);
    awqFlags->addWidget(m_duo);
    awqFlags->addStretch(1);
    a->addRow(awqFlags);
    layout->addWidget(m_awqBox);

    m_sqBox = new QGroupBox(tr("SmoothQuant"), holder);
    auto* s = compactForm(m_sqBox);
    m_alpha = new QDoubleSpinBox(m_sqBox);
    m_alpha->setObjectName(QStringLiteral("smoothquantAlpha"));
    m_alpha->setRange(0.0, 1.0);
    m_alpha->setSingleStep(0.05);
    m_alpha->setDecimals(2);
    m_alpha->setToolTip(tr("Migration strength: 0 keeps activations, 1 moves all to weights"));
    s->addRow(tr("Alpha"), m_alpha);
    layout->addWidget(m_sqBox);

    for (QSpinBox* spin : {m_blocksize, m_microBlock, m_grid})
        connect(spin, &QSpinBox::valueChanged, this, &RecipeBuilder::refresh);
    for (QDoubleSpinBox* spin : {m_damp, m_alpha})
        connect(spin, &QDoubleSpinBox::valueChanged, this, &RecipeBuilder::refresh);
    for (QCheckBox* box : {m_actOrder, m_staticGroups, m_trueSequential, m_clip, m_duo})
        connect(box, &QCheckBox::toggled, this, &RecipeBuilder::refresh);
    return holder;
}

QWidget* RecipeBuilder::createScope()
{
    auto* box = new QGroupBox(tr("Scope"), this);
    auto* form = compactForm(box);
    m_scopeLayer = new QRadioButton(box);
    m_scopeLayer->setObjectName(QStringLiteral("scopeLayer"));
    m_scopeRange = new QRadioButton(tr("Layers"), box);
    m_scopeRange->setObjectName(QStringLiteral("scopeRange"));
    m_scopeModel = new QRadioButton(tr("Whole model"), box);
    m_scopeModel->setObjectName(QStringLiteral("scopeModel"));
    m_from = new QSpinBox(box);
    m_from->setObjectName(QStringLiteral("rangeFrom"));
    m_to = new QSpinBox(box);
    m_to->setObjectName(QStringLiteral("rangeTo"));
    auto* range = new QHBoxLayout;
    range->addWidget(m_scopeRange);
    range->addWidget(m_from, 1);
    range->addWidget(new QLabel(tr("to"), box));
    range->addWidget(m_to, 1);
    form->addRow(m_scopeLayer);
    form->addRow(range);
    form->addRow(m_scopeModel);
    m_fullPrecision = new QLineEdit(box);
    m_fullPrecision->setObjectName(QStringLiteral("fullPrecisionLayers"));
    m_fullPrecision->setPlaceholderText(tr("e.g. 0, 31"));
    m_fullPrecision->setToolTip(
        tr("Layers of the scope left unquantized (like llm-compressor's "
           "ignore list)"));
    form->addRow(tr("Keep FP"), m_fullPrecision);
    for (QRadioButton* radio : {m_scopeLayer, m_scopeRange, m_scopeModel})
        connect(radio, &QRadioButton::toggled, this, [this](bool on) {
            if (on) refresh();
        });
    for (QSpinBox* spin : {m_from, m_to})
        connect(spin, &QSpinBox::valueChanged, this, [this] {
            if (!m_updating) m_scopeRange->setChecked(true);
            refresh();
        });
    connect(m_fullPrecision, &QLineEdit::textChanged, this, &RecipeBuilder::refresh);
    return box;
}

QWidget* RecipeBuilder::createOutput()
{
    auto* holder = new QWidget(this);
    auto* layout = new QVBoxLayout(holder);
    layout->setContentsMargins(0, 0, 0, 0);
    m_error = messageLabel(holder, kErrorColour, QStringLiteral("recipeError"));
    layout->addWidget(m_error);
    m_yaml = new QPlainTextEdit(holder);
    m_yaml->setObjectName(QStringLiteral("yamlPreview"));
    m_yaml->setReadOnly(true);
    m_yaml->setLineWrapMode(QPlainTextEdit::WidgetWidth);  // a narrow dock: wrap, no scrolling
    m_yaml->setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    mono.setPointSizeF(font().pointSizeF() * 0.9);
    m_yaml->setFont(mono);
    // Six lines: the recipe's head; the rest scrolls, and the form above keeps the room.
    m_yaml->setFixedHeight(QFontMetrics(mono).lineSpacing() * 6 + 10);
    m_yaml->setToolTip(tr("The recipe as YAML (what Save writes and the session stores)"));
    layout->addWidget(m_yaml);

    auto* files = new QHBoxLayout;
    auto* load = new QPushButton(tr("Load…"), holder);
    load->setObjectName(QStringLiteral("loadRecipe"));
    auto* save = new QPushButton(tr("Save…"), holder);
    save->setObjectName(QStringLiteral("saveRecipe"));
    files->addWidget(load);
    files->addWidget(save);
    files->addStretch(1);
    layout->addLayout(files);

    m_runLayer = new QPushButton(holder);
    m_runLayer->setObjectName(QStringLiteral("runLayer"));
    m_runRange = new QPushButton(holder);
    m_runRange->setObjectName(QStringLiteral("runRange"));
    m_runModel = new QPushButton(tr("Run on whole model"), holder);
    m_runModel->setObjectName(QStringLiteral("runModel"));
    m_runModel->setDefault(true);
    auto* runs = new QVBoxLayout;
    runs->setSpacing(2);
    auto* pair = new QHBoxLayout;
    pair->addWidget(m_runLayer, 1);
    pair->addWidget(m_runRange, 1);
    runs->addLayout(pair);
    runs->addWidget(m_runModel);
    layout->addLayout(runs);

    connect(load, &QPushButton::clicked, this, &RecipeBuilder::chooseLoadFile);
    connect(save, &QPushButton::clicked, this, &RecipeBuilder::chooseSaveFile);
    connect(m_runLayer, &QPushButton::clicked, this, [this] { requestRun(Scope::SelectedLayer); });
    connect(m_runRange, &QPushButton::clicked, this, [this] { requestRun(Scope::Range); });
    connect(m_runModel, &QPushButton::clicked, this, [this] { requestRun(Scope::WholeModel); });
    return holder;
}

}  // namespace qs::gui
