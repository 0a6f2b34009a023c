// The recipe builder (a dock): composes a qs::Recipe from controls and asks for it to run.
//   methods      an ordered list (add rtn / gptq / awq / smoothquant, move, remove); a
//                reversed order (gptq before a scaling method) is flagged inline from
//                Recipe::warnings()
//   weights      none / INT (bits, channel / group / tensor, symmetric, MSE) / MX (element,
//                block) / FP8 (e4m3, e5m2)            activations: the same, dynamic or static
//   calibration  dataset file, samples, seqlen, seed     method settings: GPTQ, AWQ, SmoothQuant
//   scope        selected layer / range from..to / whole model, and layers kept in full
//                precision
// Below: the resulting YAML (Recipe::to_yaml, read-only), the validation error if any (the
// YAML is parsed back with Recipe::from_yaml, so the builder accepts exactly what files and
// the command line accept), load / save, and the three run buttons: each runs the recipe on
// its scope (and selects that scope); they are disabled, with the reason as tooltip, while the
// recipe is invalid for it. A blank name means the sweep-style name (Recipe::default_name).
#pragma once

#include <optional>

#include <QMetaType>
#include <QWidget>

#include "core/quant/recipe.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QToolButton;

Q_DECLARE_METATYPE(qs::Recipe)

namespace qs::gui {

class FormatEditor;

class RecipeBuilder : public QWidget {
    Q_OBJECT

public:
    enum class Scope { SelectedLayer, Range, WholeModel };

    explicit RecipeBuilder(QWidget* parent = nullptr);
    ~RecipeBuilder() override;

    // Controls from a recipe (scope from its layers). Emits recipeChanged.
    void setRecipe(const qs::Recipe& recipe);
    // Parses YAML text (an experiment's recipe_yaml, a file's contents); on error the text is
    // shown inline, the controls stay and false is returned.
    bool loadYaml(const QString& yaml, const QString& source = QStringLiteral("recipe"));
    bool loadFile(const QString& path);
    bool saveFile(const QString& path, QString* error = nullptr) const;
    // The session's calibration: adopted by the controls now, and remembered so a recipe that
    // calibrates differently (no cache reuse, a slower run) is pointed out.
    void setCalibration(const qs::CalibrationSettings& calibration);
    void setSelectedLayer(int layer);  // -1: none
    void setNumLayers(int layers);     // 0: unknown
    void setScope(Scope scope);
    Scope scope() const;
    // Where the load / save dialogs start (default: the current directory).
    void setRecipeDirectory(const QString& dir) { m_recipeDir = dir; }

    // The controls as a recipe for `scope` (not validated) and validated (nullopt + error).
    qs::Recipe recipe(Scope scope) const;
    qs::Recipe recipe() const { return recipe(this->scope()); }
    std::optional<qs::Recipe> validRecipe(Scope scope, QString* error = nullptr) const;
    QString yaml() const;          // shown YAML (current scope)
    QString errorText() const;     // shown error; empty when valid
    QStringList warnings() const;  // shown order warnings

public slots:
    // Emits runRequested with the recipe on `scope` when it is valid; otherwise shows why.
    bool requestRun(qs::gui::RecipeBuilder::Scope scope);

signals:
    void runRequested(const qs::Recipe& recipe);
    void recipeChanged(const QString& yaml);

private:
    QWidget* createMethods();
    QWidget* createFormats();
    QWidget* createCalibration();
    QWidget* createSettings();
    QWidget* createScope();
    QWidget* createOutput();
    void addMethod(qs::Method method);
    void moveMethod(int delta);
    void removeMethod();
    void chooseDataset();
    void chooseLoadFile();
    void chooseSaveFile();
    void refresh();  // YAML, errors, warnings, visibility, button states
    std::vector<qs::Method> methods() const;
    bool parseFullPrecisionLayers(std::vector<int>& out, QString* error) const;

    bool m_updating = false;
    int m_selectedLayer = -1;
    int m_numLayers = 0;
    std::optional<qs::CalibrationSettings> m_sessionCalibration;
    QString m_recipeDir;

    QLineEdit* m_name = nullptr;
    QListWidget* m_methods = nullptr;
    QToolButton* m_add = nullptr;
    QToolButton* m_up = nullptr;
    QToolButton* m_down = nullptr;
    QToolButton* m_remove = nullptr;
    QLabel* m_orderWarning = nullptr;
    FormatEditor* m_weights = nullptr;
    FormatEditor* m_activations = nullptr;
    QComboBox* m_ranges = nullptr;
    QLineEdit* m_dataset = nullptr;
    QSpinBox* m_samples = nullptr;
    QSpinBox* m_seqlen = nullptr;
    QSpinBox* m_seed = nullptr;
    QLabel* m_calibrationNote = nullptr;
    QGroupBox* m_gptqBox = nullptr;
    QSpinBox* m_blocksize = nullptr;
    QDoubleSpinBox* m_damp = nullptr;
    QCheckBox* m_actOrder = nullptr;
    QCheckBox* m_staticGroups = nullptr;
    QCheckBox* m_trueSequential = nullptr;
    QSpinBox* m_microBlock = nullptr;
    QGroupBox* m_awqBox = nullptr;
    QSpinBox* m_grid = nullptr;
    QCheckBox* m_clip = nullptr;
    QCheckBox* m_duo = nullptr;
    QGroupBox* m_sqBox = nullptr;
    QDoubleSpinBox* m_alpha = nullptr;
    QRadioButton* m_scopeLayer = nullptr;
    QRadioButton* m_scopeRange = nullptr;
    QRadioButton* m_scopeModel = nullptr;
    QSpinBox* m_from = nullptr;
    QSpinBox* m_to = nullptr;
    QLineEdit* m_fullPrecision = nullptr;
    QPlainTextEdit* m_yaml = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_runLayer = nullptr;
    QPushButton* m_runRange = nullptr;
    QPushButton* m_runModel = nullptr;
};

}  // namespace qs::gui

Q_DECLARE_METATYPE(qs::gui::RecipeBuilder::Scope)
