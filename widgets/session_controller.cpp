#include "widgets/session_controller.h"

#include <algorithm>
#include <exception>
#include <mutex>

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>

#include "core/export/import_checkpoint.h"
#include "core/model/compute_dtype_names.h"
#include "core/session/session_file.h"
#include "core/study/workbench.h"
#include "core/util/device_list.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "widgets/job_queue.h"
#include "widgets/session_model.h"

Q_DECLARE_METATYPE(qs::SessionData)

namespace qs::gui {

// The Workbench lives here and is used only inside jobs (one worker thread, serially); the
// GUI thread only swaps the pointer between jobs.
struct SessionController::Shared {
    std::mutex mutex;
    std::shared_ptr<qs::Workbench> workbench;
    std::string sessionPath;
    std::string device = "cpu";  // where the next workbench opens the model
    std::string dtype = "fp32";  // what new sessions compute in (an open one keeps its own)

    std::string currentDevice()
    {
        std::lock_guard lock(mutex);
        return device;
    }

    std::string newSessionDtype()
    {
        std::lock_guard lock(mutex);
        return dtype;
    }

    std::shared_ptr<qs::Workbench> get()
    {
        std::lock_guard lock(mutex);
        return workbench;
    }
};

namespace {

QString baseName(const QString& modelDir)
{
    QDir dir(QDir::cleanPath(modelDir));
    QString name = dir.dirName();
    if (name == QLatin1String("hf") && dir.cdUp()) name = dir.dirName();
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
    return name.isEmpty() ? QStringLiteral("model") : name;
}

std::shared_ptr<qs::Workbench> openWorkbench(const std::string& modelDir,
                                             const qs::CalibrationSettings* calibration,
                                             const std::string& device, const std::string& dtype)
{
    auto settings = qs::Workbench::default_settings(
        modelDir, SessionController::sharedDirectory().toStdString());
    if (calibration && calibration->samples > 0) settings.calibration = *calibration;
    settings.device = device;
    settings.compute_dtype = dtype;
    return std::make_shared<qs::Workbench>(modelDir, settings);
}

}  // namespace

SessionController::SessionController(SessionModel* model, JobQueue* jobs, QObject* parent)
    : QObject(parent), m_model(model), m_jobs(jobs), m_shared(std::make_shared<Shared>())
{
    qRegisterMetaType<qs::SessionData>();
}

SessionController::~SessionController() = default;

QString SessionController::autosaveDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/sessions");
}

QString SessionController::sharedDirectory()
{
    const QByteArray env = qgetenv("QS_SHARED");
    if (!env.isEmpty()) return QDir::cleanPath(QString::fromLocal8Bit(env));
    // "/src/quantscope/../shared" -> "/src/shared": the path shows in the recipe builder.
    const QString built = QDir::cleanPath(QStringLiteral(QS_SHARED_DEFAULT));
    if (QFileInfo(built).isDir()) return built;
    // An installed quantscope (bin/) has no build tree: data/ beside its recipes, if any.
    return QDir::cleanPath(QCoreApplication::applicationDirPath() +
                           QStringLiteral("/../share/quantscope"));
}

bool SessionController::setDevice(const QString& device, QString* error)
{
    const std::string name = device.toStdString();
    if (const std::string problem = qs::device_problem(name); !problem.empty()) {
        if (error) *error = QString::fromStdString(problem);
        return false;
    }
    std::lock_guard lock(m_shared->mutex);
    if (m_shared->device != name) {
        m_shared->device = name;
        // Jobs already queued keep the workbench they hold; the next one opens the model on the
        // new device (the Workbench loads the model onto one device for its lifetime).
        m_shared->workbench.reset();
    }
    return true;
}

QString SessionController::device() const
{
    return QString::fromStdString(m_shared->currentDevice());
}

QStringList SessionController::computeDtypes()
{
    QStringList names;
    for (const auto& name : qs::compute_dtype_names())
        names << QString::fromStdString(name);
    return names;
}

bool SessionController::setComputeDtype(const QString& dtype, QString* error)
{
    if (!computeDtypes().contains(dtype)) {
        if (error)
            *error = tr("Unknown compute precision '%1' (expected %2).")
                         .arg(dtype, computeDtypes().join(QStringLiteral(", ")));
        return false;
    }
    std::lock_guard lock(m_shared->mutex);
    m_shared->dtype = dtype.toStdString();
    return true;
}

QString SessionController::computeDtype() const
{
    return QString::fromStdString(m_shared->newSessionDtype());
}

QString SessionController::sessionComputeDtype() const
{
    if (m_model->path().isEmpty()) return {};
    return QString::fromStdString(m_model->data().header.compute_dtype);
}

QString SessionController::sessionPath() const
{
    return m_model->path();
}

qs::Recipe SessionController::recipeDefaults() const
{
    qs::Recipe recipe;
    if (auto workbench = m_shared->get()) return workbench->recipe_defaults();
    recipe.calibration.dataset = m_model->data().header.calibration.dataset;
    if (m_model->data().header.calibration.samples > 0) {
        recipe.calibration.samples = m_model->data().header.calibration.samples;
        recipe.calibration.seqlen = m_model->data().header.calibration.seqlen;
        recipe.calibration.seed = m_model->data().header.calibration.seed;
    }
    return recipe;
}

void SessionController::newSessionForModel(const QString& modelDir)
{
    const QString dir = QDir::cleanPath(QFileInfo(modelDir).absoluteFilePath());
    QDir().mkpath(autosaveDirectory());
    // .quantscope.h5: the desktop's MIME type for sessions (resources/quantscope-mime.xml).
    const QString path = QStringLiteral("%1/%2-%3.quantscope.h5")
                             .arg(autosaveDirectory(), baseName(dir),
                                  QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz"));
    m_modelDir = dir;
    m_model->setData({}, path);
    emit modelChanged(dir);
    auto shared = m_shared;
    const std::string modelPath = dir.toStdString(), sessionPath = path.toStdString();
    m_jobs->enqueue(
        tr("Baseline statistics of %1").arg(baseName(dir)),
        [shared, modelPath, sessionPath](qs::Feedback& feedback) -> QVariant {
            report(&feedback, 0.0, "opening the model");
            auto workbench = openWorkbench(modelPath, nullptr, shared->currentDevice(),
                                           shared->newSessionDtype());
            {
                std::lock_guard lock(shared->mutex);
                shared->workbench = workbench;
            }
            qs::SessionData data;
            data.header = workbench->session_header();
            qs::create_session(sessionPath, data.header, /*overwrite=*/true);
            data.baseline = workbench->compute_baseline(&feedback);
            qs::write_baseline(sessionPath, data.baseline);
            data = qs::read_session(sessionPath);
            return QVariant::fromValue(data);
        },
        [this, path](const QVariant& result) {
            if (m_model->path() != path) return;  // another session was opened meanwhile
            m_model->setData(result.value<qs::SessionData>(), path);
            emit sessionOpened(path);
            emit message(
                tr("Baseline statistics ready (computed in %1); session autosaved to %2")
                    .arg(QString::fromStdString(m_model->data().header.compute_dtype), path));
        },
        [this](const QString& error) { emit failed(error); });
}

void SessionController::openSession(const QString& path)
{
    const QString file = QFileInfo(path).absoluteFilePath();
    auto shared = m_shared;
    m_jobs->enqueue(
        tr("Open session %1").arg(QFileInfo(file).fileName()),
        [file](qs::Feedback& feedback) -> QVariant {
            report(&feedback, 0.0, "reading");
            return QVariant::fromValue(qs::read_session(file.toStdString()));
        },
        [this, file](const QVariant& result) {
            auto data = result.value<qs::SessionData>();
            const QString modelDir = QString::fromStdString(data.header.model_path);
            {
                std::lock_guard lock(m_shared->mutex);
                m_shared->workbench.reset();  // opened again, lazily, for this session's model
            }
            m_model->setData(std::move(data), file);
            m_modelDir = QFileInfo::exists(modelDir + "/config.json") ? modelDir : QString();
            emit modelChanged(m_modelDir);
            emit sessionOpened(file);
            if (m_modelDir.isEmpty())
                emit message(tr("Opened %1. Its model (%2) is not on this machine: the session "
                                "can be studied, but new experiments need the model.")
                                 .arg(file, modelDir));
            else
                emit message(
                    tr("Opened %1 (%2 experiments, computed in %3)")
                        .arg(file)
                        .arg(m_model->data().experiments.size())
                        .arg(QString::fromStdString(m_model->data().header.compute_dtype)));
        },
        [this](const QString& error) { emit failed(error); });
}

bool SessionController::saveSessionAs(const QString& path, QString* error)
{
    const QString source = m_model->path();
    if (source.isEmpty() || !QFileInfo::exists(source)) {
        if (error) *error = tr("There is no session to save yet (open a model first).");
        return false;
    }
    if (QFileInfo(path).absoluteFilePath() == QFileInfo(source).absoluteFilePath()) return true;
    QFile in(source);
    QSaveFile out(path);
    if (!in.open(QIODevice::ReadOnly) || !out.open(QIODevice::WriteOnly)) {
        if (error)
            *error = tr("%1: %2").arg(in.isOpen() ? path : source,
                                      in.isOpen() ? out.errorString() : in.errorString());
        return false;
    }
    while (!in.atEnd()) {
        const QByteArray chunk = in.read(1 << 20);
        if (out.write(chunk) != chunk.size()) break;
    }
    if (!out.commit()) {
        if (error) *error = tr("%1: %2").arg(path, out.errorString());
        return false;
    }
    m_model->setPath(QFileInfo(path).absoluteFilePath());
    emit sessionOpened(m_model->path());
    return true;
}

// Opens the Workbench on the worker the first time a job needs it (with the session's
// calibration, so the shared calibration cache serves the session's recipes).
std::function<std::shared_ptr<qs::Workbench>(qs::Feedback&)> SessionController::workbenchGetter()
    const
{
    const std::string modelDir = m_modelDir.toStdString();
    const auto& record = m_model->data().header.calibration;
    qs::CalibrationSettings calibration;
    calibration.dataset = record.dataset;
    calibration.samples = record.samples;
    calibration.seqlen = record.seqlen;
    calibration.seed = record.seed;
    // Every experiment of a session runs in the dtype the session was made with.
    const std::string dtype = m_model->data().header.compute_dtype;
    auto shared = m_shared;
    return [shared, modelDir, calibration, dtype](qs::Feedback& feedback) {
        auto workbench = shared->get();
        if (workbench) return workbench;
        report(&feedback, 0.0, "opening the model");
        workbench = openWorkbench(modelDir, &calibration, shared->currentDevice(), dtype);
        std::lock_guard lock(shared->mutex);
        shared->workbench = workbench;
        return workbench;
    };
}

void SessionController::runRecipe(qs::Recipe recipe)
{
    if (m_modelDir.isEmpty()) {
        emit failed(tr("Open a model (or a session whose model is on this machine) first."));
        return;
    }
    const std::string sessionPath = m_model->path().toStdString();
    m_jobs->enqueue(
        tr("Run %1").arg(QString::fromStdString(recipe.name)),
        [workbench = workbenchGetter(), recipe, sessionPath](qs::Feedback& feedback) {
            const std::string id = qs::next_experiment_id(sessionPath);
            qs::ExperimentRecord record =
                workbench(feedback)->run_experiment(recipe, id, &feedback);
            qs::append_experiment(sessionPath, record);
            return QVariant::fromValue(record);
        },
        [this, sessionPath](const QVariant& result) {
            if (m_model->path().toStdString() != sessionPath) return;
            auto record = result.value<qs::ExperimentRecord>();
            const QString id = QString::fromStdString(record.id);
            m_model->addExperiment(std::move(record));
            m_model->selectExperiment(id);
            emit experimentAdded(id);
        },
        [this](const QString& error) { emit failed(error); });
}

void SessionController::exportCheckpoint(qs::Recipe recipe, const QString& format,
                                         const QString& outDir, bool force)
{
    if (m_modelDir.isEmpty()) {
        emit failed(tr("Open a model (or a session whose model is on this machine) first."));
        return;
    }
    m_jobs->enqueue(
        tr("Save %1 as %2").arg(QString::fromStdString(recipe.name), format),
        [workbench = workbenchGetter(), recipe, format = format.toStdString(),
         out = outDir.toStdString(), force](qs::Feedback& feedback) {
            return QVariant(QString::fromStdString(
                workbench(feedback)->export_checkpoint(recipe, format, out, force, &feedback)));
        },
        [this](const QVariant& result) {
            emit message(tr("Saved the quantized checkpoint: %1").arg(result.toString()));
        },
        [this](const QString& error) { emit failed(error); });
}

void SessionController::importCheckpoint(const QString& source, const QString& outDir)
{
    m_jobs->enqueue(
        tr("Import %1").arg(QFileInfo(source).fileName()),
        [in = source.toStdString(), out = outDir.toStdString()](qs::Feedback& feedback) {
            const auto summary = qs::import_checkpoint(in, out, /*force=*/true, &feedback);
            return QVariant(QString::fromStdString(summary.out_dir));
        },
        [this](const QVariant& result) { emit checkpointImported(result.toString()); },
        [this](const QString& error) { emit failed(error); });
}

bool SessionController::resetLayerToFullPrecision(int layer, QString* error)
{
    const auto* experiment = m_model->currentExperiment();
    if (!experiment) {
        if (error)
            *error = tr("Select the experiment whose layer should return to full precision.");
        return false;
    }
    qs::Recipe recipe;
    try {
        recipe = qs::Recipe::from_yaml(experiment->recipe_yaml, experiment->id);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    const bool quantized = std::any_of(
        experiment->linears.begin(), experiment->linears.end(),
        [layer](const qs::LinearRecord& l) { return l.layer == layer && !l.method.empty(); });
    if (!quantized) {
        if (error)
            *error = tr("Layer %1 is not quantized in %2: nothing to reset.")
                         .arg(layer)
                         .arg(QString::fromStdString(experiment->name));
        return false;
    }
    const bool defaultName = recipe.name == recipe.default_name();
    recipe.full_precision_layers.push_back(layer);
    std::sort(recipe.full_precision_layers.begin(), recipe.full_precision_layers.end());
    recipe.name = defaultName ? recipe.default_name() : recipe.name + "-fp" + std::to_string(layer);
    runRecipe(recipe);
    return true;
}

}  // namespace qs::gui
