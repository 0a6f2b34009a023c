// The workbench's document logic, kept out of the main window: which model and session are
// open, and the jobs that change them. Every change of the session file is an atomic append
// made by core (core/session/session_file.h), so the session on disk is always saved; a new
// model's session starts as an autosave file (autosaveDirectory()) until "Save Session As"
// copies it elsewhere. Long work (opening, baseline statistics, experiments) runs on the
// JobQueue's worker; results come back as value types and go into the SessionModel.
#pragma once

#include <functional>
#include <memory>

#include <QObject>
#include <QString>
#include <QStringList>

#include "core/quant/recipe.h"

namespace qs {
class Feedback;
class Workbench;
struct SessionData;
}  // namespace qs

namespace qs::gui {

class JobQueue;
class SessionModel;

class SessionController : public QObject {
    Q_OBJECT

public:
    SessionController(SessionModel* model, JobQueue* jobs, QObject* parent = nullptr);
    ~SessionController() override;

    // Queues: open the model, create a new autosaved session for it, compute the baseline.
    void newSessionForModel(const QString& modelDir);
    // Queues reading the session; its model is opened for new experiments when it exists.
    void openSession(const QString& path);
    // Copies the session file (atomically) and continues working on the copy.
    bool saveSessionAs(const QString& path, QString* error);
    // Queues one experiment with `recipe` (the session's calibration is used).
    void runRecipe(qs::Recipe recipe);
    // Queues writing `recipe`'s quantized checkpoint in `format` (qs::Workbench::export_formats()).
    void exportCheckpoint(qs::Recipe recipe, const QString& format, const QString& outDir,
                          bool force);
    // Queues dequantizing a gptq / awq / compressed-tensors folder or a GGUF file into a float
    // checkpoint in outDir; checkpointImported follows.
    void importCheckpoint(const QString& source, const QString& outDir);
    // Queues the selected experiment's recipe again with `layer` kept in full precision.
    bool resetLayerToFullPrecision(int layer, QString* error);

    // Compute device for the next jobs ("cpu", "cuda:N"; qs::available_devices()). False, with
    // the reason, for a device this build or machine lacks.
    bool setDevice(const QString& device, QString* error = nullptr);
    QString device() const;
    // Compute precision ("fp32", "bf16", "fp16": core/model/compute_dtype.h) of the sessions
    // created from now on; an open session keeps the one it was made with (its header records
    // it), so that its experiments stay comparable. False, with the reason, for another name.
    static QStringList computeDtypes();
    bool setComputeDtype(const QString& dtype, QString* error = nullptr);
    QString computeDtype() const;
    // The open session's precision; empty without a session.
    QString sessionComputeDtype() const;

    QString modelDirectory() const { return m_modelDir; }
    QString sessionPath() const;
    bool canRunExperiments() const { return !m_modelDir.isEmpty(); }
    // A recipe with the session's calibration settings: what the recipe builder starts from.
    qs::Recipe recipeDefaults() const;

    static QString autosaveDirectory();
    // Where the datasets are (data/wikitext-2, ...): $QS_SHARED, else the build's default
    // shared folder when it exists, else share/quantscope beside an installed binary.
    static QString sharedDirectory();

signals:
    void modelChanged(const QString& modelDir);  // the tree should show this model
    void sessionOpened(const QString& path);
    void experimentAdded(const QString& id);
    void checkpointImported(const QString& modelDir);
    void message(const QString& text);
    void failed(const QString& text);

private:
    struct Shared;  // state shared with worker jobs (the Workbench)
    std::function<std::shared_ptr<qs::Workbench>(qs::Feedback&)> workbenchGetter() const;

    SessionModel* m_model;
    JobQueue* m_jobs;
    QString m_modelDir;
    std::shared_ptr<Shared> m_shared;
};

}  // namespace qs::gui
