// RecipeBuilder's logic: controls <-> qs::Recipe, validation through Recipe::from_yaml, and the
// run requests. The controls are built in recipe_builder_layout.cpp.
#include "widgets/recipe_builder.h"

#include <algorithm>
#include <exception>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSaveFile>
#include <QScrollArea>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/util/error.h"
#include "widgets/recipe_builder_format.h"

namespace qs::gui {

namespace {

constexpr int kMethodRole = Qt::UserRole;

QString describe(const std::exception& e, const QString& source)
{
    // QsError reads "<source>: <problem>"; inside the builder the source is obvious.
    QString text = QString::fromUtf8(e.what());
    const QString prefix = source + QStringLiteral(": ");
    if (text.startsWith(prefix)) text = text.mid(prefix.size());
    return text;
}

qs::Recipe initialRecipe()
{
    qs::Recipe r;
    r.methods = {Method::Gptq};
    r.weights = QuantFormat::parse("int4-g128-asym");
    return r;
}

}  // namespace

RecipeBuilder::RecipeBuilder(QWidget* parent) : QWidget(parent)
{
    qRegisterMetaType<qs::Recipe>();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* content = new QWidget(scroll);
    auto* controls = new QVBoxLayout(content);
    controls->setContentsMargins(0, 0, 4, 0);
    auto* nameForm = new QFormLayout;
    nameForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_name = new QLineEdit(content);
    m_name->setObjectName(QStringLiteral("recipeName"));
    m_name->setClearButtonEnabled(true);
    m_name->setToolTip(tr("Leave blank for a name made from the methods, formats and scope"));
    nameForm->addRow(tr("Name"), m_name);
    controls->addLayout(nameForm);
    controls->addWidget(createMethods());
    controls->addWidget(createFormats());
    controls->addWidget(createSettings());
    controls->addWidget(createCalibration());
    controls->addWidget(createScope());
    controls->addStretch(1);
    scroll->setWidget(content);
    layout->addWidget(scroll, 1);
    layout->addWidget(createOutput());
    connect(m_name, &QLineEdit::textChanged, this, &RecipeBuilder::refresh);

    setNumLayers(0);
    setRecipe(initialRecipe());
}

RecipeBuilder::~RecipeBuilder() = default;

// --- controls <-> recipe ---------------------------------------------------------------------

void RecipeBuilder::setRecipe(const qs::Recipe& r)
{
    m_updating = true;
    m_name->setText(r.name == r.default_name() ? QString() : QString::fromStdString(r.name));
    m_methods->clear();
    for (Method m : r.methods) {
        auto* item = new QListWidgetItem(QString::fromStdString(method_name(m)), m_methods);
        item->setData(kMethodRole, int(m));
    }
    m_weights->setFormat(r.weights);
    m_activations->setFormat(r.activations);
    m_ranges->setCurrentIndex(r.static_activations ? 1 : 0);
    m_dataset->setText(QString::fromStdString(r.calibration.dataset));
    m_samples->setValue(int(r.calibration.samples));
    m_seqlen->setValue(int(r.calibration.seqlen));
    m_seed->setValue(int(r.calibration.seed));
    m_blocksize->setValue(r.gptq.blocksize);
    m_damp->setValue(r.gptq.percdamp);
    m_actOrder->setChecked(r.gptq.act_order);
    m_staticGroups->setChecked(r.gptq.static_groups);
    m_trueSequential->setChecked(r.gptq.true_sequential);
    m_microBlock->setValue(r.gptq.mx_micro_block);
    m_grid->setValue(r.awq.grid);
    m_clip->setChecked(r.awq.clip);
    m_duo->setChecked(r.awq.duo_scaling);
    m_alpha->setValue(r.smoothquant.alpha);
    QStringList keep;
    for (int layer : r.full_precision_layers)
        keep << QString::number(layer);
    m_fullPrecision->setText(keep.join(QStringLiteral(", ")));
    if (r.first_layer == 0 && r.last_layer < 0) {
        m_scopeModel->setChecked(true);
    } else if (r.first_layer == r.last_layer && r.first_layer == m_selectedLayer) {
        m_scopeLayer->setChecked(true);
    } else {
        m_from->setValue(r.first_layer);
        m_to->setValue(r.last_layer < 0 ? m_to->maximum() : r.last_layer);
        m_scopeRange->setChecked(true);
    }
    m_updating = false;
    refresh();
}

bool RecipeBuilder::loadYaml(const QString& yaml, const QString& source)
{
    try {
        setRecipe(qs::Recipe::from_yaml(yaml.toStdString(), source.toStdString()));
        return true;
    } catch (const std::exception& e) {
        m_error->setText(tr("Not loaded: %1").arg(QString::fromUtf8(e.what())));
        m_error->show();
        return false;
    }
}

bool RecipeBuilder::loadFile(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        m_error->setText(tr("Not loaded: %1: %2").arg(path, file.errorString()));
        m_error->show();
        return false;
    }
    m_recipeDir = QFileInfo(path).absolutePath();
    return loadYaml(QString::fromUtf8(file.readAll()), QFileInfo(path).fileName());
}

bool RecipeBuilder::saveFile(const QString& path, QString* error) const
{
    QString why;
    const auto r = validRecipe(scope(), &why);
    if (!r) {
        if (error) *error = why;
        return false;
    }
    QSaveFile file(path);
    const QByteArray text = QByteArray::fromStdString(r->to_yaml());
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit()) {
        if (error) *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void RecipeBuilder::setCalibration(const qs::CalibrationSettings& calibration)
{
    m_sessionCalibration = calibration;
    m_updating = true;
    m_dataset->setText(QString::fromStdString(calibration.dataset));
    m_samples->setValue(int(calibration.samples));
    m_seqlen->setValue(int(calibration.seqlen));
    m_seed->setValue(int(calibration.seed));
    m_updating = false;
    refresh();
}

void RecipeBuilder::setSelectedLayer(int layer)
{
    m_selectedLayer = layer;
    refresh();
}

void RecipeBuilder::setNumLayers(int layers)
{
    m_updating = true;
    // The range follows the model: a new model (or the first) selects all of its layers.
    const bool toWasLast = m_to->value() == m_to->maximum() || m_numLayers == 0;
    m_numLayers = std::max(0, layers);
    const int last = m_numLayers > 0 ? m_numLayers - 1 : 9999;
    m_from->setRange(0, last);
    m_to->setRange(0, last);
    if (toWasLast && m_numLayers > 0) m_to->setValue(last);
    if (m_selectedLayer > last) m_selectedLayer = -1;
    m_updating = false;
    refresh();
}

void RecipeBuilder::setScope(Scope scope)
{
    switch (scope) {
        case Scope::SelectedLayer:
            m_scopeLayer->setChecked(true);
            break;
        case Scope::Range:
            m_scopeRange->setChecked(true);
            break;
        case Scope::WholeModel:
            m_scopeModel->setChecked(true);
            break;
    }
}

RecipeBuilder::Scope RecipeBuilder::scope() const
{
    if (m_scopeLayer->isChecked()) return Scope::SelectedLayer;
    if (m_scopeRange->isChecked()) return Scope::Range;
    return Scope::WholeModel;
}

std::vector<qs::Method> RecipeBuilder::methods() const
{
    std::vector<Method> out;
    for (int i = 0; i < m_methods->count(); ++i)
        out.push_back(Method(m_methods->item(i)->data(kMethodRole).toInt()));
    return out;
}

bool RecipeBuilder::parseFullPrecisionLayers(std::vector<int>& out, QString* error) const
{
    out.clear();
    const QStringList parts = m_fullPrecision->text().split(
        QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts);
    for (const QString& part : parts) {
        bool ok = false;
        const int layer = part.toInt(&ok);
        if (!ok || layer < 0) {
            if (error) *error = tr("Keep FP: '%1' is not a layer number").arg(part);
            return false;
        }
        out.push_back(layer);
    }
    return true;
}

qs::Recipe RecipeBuilder::recipe(Scope scope) const
{
    Recipe r;
    r.methods = methods();
    r.weights = m_weights->format();
    r.activations = m_activations->format();
    r.static_activations = m_ranges->currentIndex() == 1;
    r.calibration.dataset = m_dataset->text().trimmed().toStdString();
    r.calibration.samples = m_samples->value();
    r.calibration.seqlen = m_seqlen->value();
    r.calibration.seed = std::uint64_t(m_seed->value());
    r.gptq.blocksize = m_blocksize->value();
    r.gptq.percdamp = m_damp->value();
    r.gptq.act_order = m_actOrder->isChecked();
    r.gptq.static_groups = m_staticGroups->isChecked();
    r.gptq.true_sequential = m_trueSequential->isChecked();
    r.gptq.mx_micro_block = m_microBlock->value();
    r.awq.grid = m_grid->value();
    r.awq.clip = m_clip->isChecked();
    r.awq.duo_scaling = m_duo->isChecked();
    r.smoothquant.alpha = m_alpha->value();
    switch (scope) {
        case Scope::SelectedLayer:
            r.first_layer = r.last_layer = m_selectedLayer;
            break;
        case Scope::Range:
            r.first_layer = m_from->value();
            r.last_layer = m_to->value();
            break;
        case Scope::WholeModel:
            break;
    }
    // Layers kept in full precision matter only inside the scope a run uses.
    std::vector<int> keep;
    parseFullPrecisionLayers(keep, nullptr);
    for (int layer : keep)
        if (layer >= r.first_layer && (r.last_layer < 0 || layer <= r.last_layer) &&
            std::find(r.full_precision_layers.begin(), r.full_precision_layers.end(), layer) ==
                r.full_precision_layers.end())
            r.full_precision_layers.push_back(layer);
    std::sort(r.full_precision_layers.begin(), r.full_precision_layers.end());
    const QString name = m_name->text().trimmed();
    r.name = name.isEmpty() ? r.default_name() : name.toStdString();
    return r;
}

std::optional<qs::Recipe> RecipeBuilder::validRecipe(Scope scope, QString* error) const
{
    auto fail = [error](const QString& why) -> std::optional<qs::Recipe> {
        if (error) *error = why;
        return std::nullopt;
    };
    std::vector<int> keep;
    QString why;
    if (!parseFullPrecisionLayers(keep, &why)) return fail(why);
    if (scope == Scope::SelectedLayer && m_selectedLayer < 0)
        return fail(tr("Select a layer in the model tree first."));
    if (scope == Scope::Range && m_from->value() > m_to->value())
        return fail(tr("The layer range runs backwards (%1 to %2).")
                        .arg(m_from->value())
                        .arg(m_to->value()));
    const Recipe r = recipe(scope);
    Recipe parsed;
    try {
        parsed = Recipe::from_yaml(r.to_yaml(), "recipe");
    } catch (const std::exception& e) {
        return fail(describe(e, QStringLiteral("recipe")));
    }
    const int last = parsed.last_layer >= 0 ? parsed.last_layer : m_numLayers - 1;
    if (last >= parsed.first_layer) {
        bool any = false;
        for (int layer = parsed.first_layer; layer <= last && !any; ++layer)
            any = parsed.quantizes_layer(layer, last + 1);
        if (!any) return fail(tr("Every layer of the scope is kept in full precision."));
    }
    return parsed;
}

QString RecipeBuilder::yaml() const
{
    return m_yaml->toPlainText();
}

QString RecipeBuilder::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

QStringList RecipeBuilder::warnings() const
{
    return m_orderWarning->isHidden() ? QStringList()
                                      : m_orderWarning->text().split(QLatin1Char('\n'));
}

bool RecipeBuilder::requestRun(Scope scope)
{
    QString why;
    const auto r = validRecipe(scope, &why);
    if (!r) {
        m_error->setText(why);
        m_error->show();
        return false;
    }
    setScope(scope);  // the YAML shown is the one that runs
    emit runRequested(*r);
    return true;
}

// --- methods list ----------------------------------------------------------------------------

void RecipeBuilder::addMethod(qs::Method method)
{
    const auto listed = methods();
    if (std::find(listed.begin(), listed.end(), method) != listed.end()) return;
    auto* item = new QListWidgetItem(QString::fromStdString(method_name(method)), m_methods);
    item->setData(kMethodRole, int(method));
    m_methods->setCurrentItem(item);
    refresh();
}

void RecipeBuilder::moveMethod(int delta)
{
    const int row = m_methods->currentRow();
    const int to = row + delta;
    if (row < 0 || to < 0 || to >= m_methods->count()) return;
    QListWidgetItem* item = m_methods->takeItem(row);
    m_methods->insertItem(to, item);
    m_methods->setCurrentRow(to);
    refresh();
}

void RecipeBuilder::removeMethod()
{
    const int row = m_methods->currentRow();
    if (row < 0) return;
    delete m_methods->takeItem(row);
    refresh();
}

// --- files -----------------------------------------------------------------------------------

void RecipeBuilder::chooseDataset()
{
    const QString start =
        m_dataset->text().isEmpty() ? m_recipeDir : QFileInfo(m_dataset->text()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Calibration text"), start, tr("Text files (*.txt *.raw);;All files (*)"));
    if (!path.isEmpty()) m_dataset->setText(path);
}

void RecipeBuilder::chooseLoadFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Load recipe"), m_recipeDir,
                                                      tr("Recipes (*.yaml *.yml);;All files (*)"));
    if (!path.isEmpty()) loadFile(path);
}

void RecipeBuilder::chooseSaveFile()
{
    const QString suggested =
        QStringLiteral("%1/%2.yaml").arg(m_recipeDir, QString::fromStdString(recipe().name));
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save recipe"), suggested, tr("Recipes (*.yaml)"));
    if (path.isEmpty()) return;
    QString error;
    if (saveFile(path, &error)) {
        m_recipeDir = QFileInfo(path).absolutePath();
    } else {
        m_error->setText(tr("Not saved: %1").arg(error));
        m_error->show();
    }
}

// --- state -----------------------------------------------------------------------------------

void RecipeBuilder::refresh()
{
    if (m_updating) return;
    const auto listed = methods();
    auto uses = [&](Method m) {
        return std::find(listed.begin(), listed.end(), m) != listed.end();
    };
    for (int i = 0; i < m_methods->count(); ++i) {
        auto* item = m_methods->item(i);
        item->setText(QStringLiteral("%1. %2").arg(i + 1).arg(
            QString::fromStdString(method_name(Method(item->data(kMethodRole).toInt())))));
    }
    const int row = m_methods->currentRow();
    m_up->setEnabled(row > 0);
    m_down->setEnabled(row >= 0 && row + 1 < m_methods->count());
    m_remove->setEnabled(row >= 0);
    for (QAction* action : m_add->menu()->actions()) {
        const auto name = action->objectName().mid(4).toStdString();  // "add_<method>"
        bool present = false;
        for (Method m : listed)
            present = present || method_name(m) == name;
        action->setEnabled(!present);
    }
    m_gptqBox->setVisible(uses(Method::Gptq));
    m_awqBox->setVisible(uses(Method::Awq));
    m_sqBox->setVisible(uses(Method::SmoothQuant));
    m_ranges->setEnabled(m_activations->format().kind != FormatKind::None);

    const Scope current = scope();
    const Recipe shown = recipe(current);
    m_name->setPlaceholderText(QString::fromStdString(shown.default_name()));
    m_yaml->setPlainText(QString::fromStdString(shown.to_yaml()));

    QStringList notes;
    for (const auto& w : shown.warnings())
        notes << QString::fromStdString(w);
    if (listed.empty() && shown.weights.kind != FormatKind::None)
        notes << tr("No method listed: the weights are rounded to nearest (RTN).");
    m_orderWarning->setText(notes.join(QLatin1Char('\n')));
    m_orderWarning->setVisible(!notes.isEmpty());

    QString why;
    const bool valid = validRecipe(current, &why).has_value();
    m_error->setText(why);
    m_error->setVisible(!valid);

    m_calibrationNote->setVisible(m_sessionCalibration && shown.needs_calibration() &&
                                  (m_sessionCalibration->dataset != shown.calibration.dataset ||
                                   m_sessionCalibration->samples != shown.calibration.samples ||
                                   m_sessionCalibration->seqlen != shown.calibration.seqlen ||
                                   m_sessionCalibration->seed != shown.calibration.seed));

    m_scopeLayer->setText(m_selectedLayer >= 0 ? tr("Selected layer (%1)").arg(m_selectedLayer)
                                               : tr("Selected layer (none selected)"));
    m_runLayer->setText(m_selectedLayer >= 0 ? tr("Run on layer %1").arg(m_selectedLayer)
                                             : tr("Run on selected layer"));
    // "Layers 0–0" reads like a typo: one layer is named as one.
    m_runRange->setText(m_from->value() == m_to->value()
                            ? tr("Run on layer %1").arg(m_from->value())
                            : tr("Run on layers %1–%2").arg(m_from->value()).arg(m_to->value()));
    const std::pair<QPushButton*, Scope> buttons[] = {{m_runLayer, Scope::SelectedLayer},
                                                      {m_runRange, Scope::Range},
                                                      {m_runModel, Scope::WholeModel}};
    for (const auto& [button, buttonScope] : buttons) {
        QString reason;
        const bool ok = validRecipe(buttonScope, &reason).has_value();
        button->setEnabled(ok);
        button->setToolTip(ok ? tr("Queue this recipe as a new experiment") : reason);
    }
    emit recipeChanged(m_yaml->toPlainText());
}

}  // namespace qs::gui
