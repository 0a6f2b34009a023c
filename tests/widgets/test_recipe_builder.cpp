// The recipe builder (widgets/recipe_builder.h): controls -> qs::Recipe and back for every
// format kind, the reversed-order warning, the three scope buttons, invalid combinations
// (error shown, nothing emitted), the bundled recipe files, and a screenshot when
// QS_SCREENSHOT_DIR is set.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include "widgets/recipe_builder.h"

using qs::Recipe;
using qs::gui::RecipeBuilder;

namespace {

template <typename T>
T* child(const QWidget& parent, const char* name)
{
    T* w = parent.findChild<T*>(QString::fromLatin1(name));
    if (!w) qFatal("no child %s", name);
    return w;
}

QString sourceDir()
{
    return QFileInfo(QStringLiteral(__FILE__)).absolutePath() + QStringLiteral("/../..");
}

// The recipe a YAML text means, as canonical YAML, without its name.
std::string canonical(Recipe r)
{
    r.name.clear();
    return r.to_yaml();
}

}  // namespace

class TestRecipeBuilder : public QObject {
    Q_OBJECT

private slots:
    void defaultRecipeIsValid()
    {
        RecipeBuilder builder;
        QVERIFY(builder.errorText().isEmpty());
        QVERIFY(child<QPushButton>(builder, "runModel")->isEnabled());
        QVERIFY(!child<QPushButton>(builder, "runLayer")->isEnabled());  // no layer selected
        QVERIFY(builder.yaml().contains(QStringLiteral("methods: [gptq]")));
        // Blank name: the sweep-style name, shown as placeholder and used.
        QCOMPARE(builder.recipe().name, std::string("gptq-int4-g128-asym"));
        QCOMPARE(child<QLineEdit>(builder, "recipeName")->placeholderText(),
                 QStringLiteral("gptq-int4-g128-asym"));
    }

    void roundTripsEveryFormatKind_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::newRow("int group")
            << "methods: [gptq]\nweights: int3-g32-asym\n"
               "gptq: {act_order: true, static_groups: true, blocksize: 64}\n";
        QTest::newRow("int channel sym mse") << "methods: [rtn]\nweights: int8-channel-sym-mse\n";
        QTest::newRow("int tensor") << "weights: int4-tensor-sym\n";
        QTest::newRow("mx int") << "methods: [awq, gptq]\nweights: mxint4-32\n"
                                   "activations: mxint8-128\ngptq: {mx_micro_block: 32}\n"
                                   "awq: {grid: 10, clip: false, duo_scaling: true}\n";
        QTest::newRow("mx fp even") << "weights: mxfp4-64-even\nactivations: mxfp8-e5m2-16\n";
        QTest::newRow("fp8") << "weights: fp8-e4m3\nactivations: fp8-e5m2-tensor\n"
                                "activation_ranges: static\n";
        QTest::newRow("smoothquant w8a8 static")
            << "methods: [smoothquant, rtn]\nweights: int8-channel-sym\n"
               "activations: int8-token-sym\nactivation_ranges: static\nsmoothquant: {alpha: 0.8}\n"
               "calibration: {dataset: /data/valid.txt, samples: 64, seqlen: 128, seed: 3}\n";
        QTest::newRow("no weights") << "methods: [smoothquant]\nweights: fp32\n";
        QTest::newRow("range and fp layers")
            << "methods: [gptq]\nweights: int4-g128-asym\nlayers: [1, 3]\n"
               "full_precision_layers: [2]\n";
    }

    void roundTripsEveryFormatKind()
    {
        QFETCH(QString, yaml);
        RecipeBuilder builder;
        builder.setNumLayers(5);
        QVERIFY(builder.loadYaml(yaml));
        QVERIFY2(builder.errorText().isEmpty(), qPrintable(builder.errorText()));
        const Recipe expected = Recipe::from_yaml(yaml.toStdString());
        const Recipe shown = Recipe::from_yaml(builder.yaml().toStdString());
        QCOMPARE(canonical(builder.recipe()), canonical(expected));
        QCOMPARE(canonical(shown), canonical(expected));
        QCOMPARE(builder.recipe().name, expected.name);
    }

    void controlsMakeTheFormat()
    {
        RecipeBuilder builder;
        auto* kind = child<QComboBox>(builder, "weightsKind");
        kind->setCurrentIndex(2);  // MX
        auto* element = child<QComboBox>(builder, "weightsMxElement");
        element->setCurrentIndex(element->findText(QStringLiteral("mxfp4 (e2m1)")));
        auto* block = child<QComboBox>(builder, "weightsMxBlock");
        block->setCurrentIndex(block->findText(QStringLiteral("64")));
        QCOMPARE(builder.recipe().weights.name(), std::string("mxfp4-64"));

        kind->setCurrentIndex(3);  // FP8
        child<QComboBox>(builder, "weightsFp8Variant")->setCurrentIndex(1);
        QCOMPARE(builder.recipe().weights.name(), std::string("fp8-e5m2-channel"));

        kind->setCurrentIndex(1);  // INT
        child<QSpinBox>(builder, "weightsBits")->setValue(3);
        auto* granularity = child<QComboBox>(builder, "weightsGranularity");
        granularity->setCurrentIndex(1);  // group
        child<QSpinBox>(builder, "weightsGroup")->setValue(32);
        child<QCheckBox>(builder, "weightsSymmetric")->setChecked(true);
        QCOMPARE(builder.recipe().weights.name(), std::string("int3-g32-sym"));

        auto* acts = child<QComboBox>(builder, "activationsKind");
        acts->setCurrentIndex(1);
        QCOMPARE(builder.recipe().activations.name(), std::string("int8-token-asym"));
        QVERIFY(builder.yaml().contains(QStringLiteral("activations: int8-token-asym")));
        QCOMPARE(builder.recipe().name, std::string("gptq-int3-g32-sym-aint8-token-asym"));
    }

    void reversedOrderIsFlagged()
    {
        RecipeBuilder builder;
        auto* list = child<QListWidget>(builder, "methodList");
        auto* warning = child<QLabel>(builder, "orderWarning");
        QVERIFY(warning->isHidden());
        // Add AWQ after GPTQ through the menu: reversed.
        QAction* addAwq = child<QToolButton>(builder, "addMethod")
                              ->menu()
                              ->findChild<QAction*>(QStringLiteral("add_awq"));
        QVERIFY(addAwq);
        addAwq->trigger();
        QCOMPARE(list->count(), 2);
        QVERIFY(!warning->isHidden());
        QVERIFY(warning->text().contains(QStringLiteral("degrade")));
        QVERIFY(!addAwq->isEnabled());  // listed once at most
        // Move AWQ up: the order the papers use, no warning.
        list->setCurrentRow(1);
        child<QToolButton>(builder, "methodUp")->click();
        QCOMPARE(builder.recipe().methods,
                 (std::vector<qs::Method>{qs::Method::Awq, qs::Method::Gptq}));
        QVERIFY(warning->isHidden());
        // Remove both: RTN by default, said so.
        list->setCurrentRow(0);
        child<QToolButton>(builder, "methodRemove")->click();
        list->setCurrentRow(0);
        child<QToolButton>(builder, "methodRemove")->click();
        QCOMPARE(list->count(), 0);
        QVERIFY(warning->text().contains(QStringLiteral("RTN")));
        QVERIFY(builder.errorText().isEmpty());
    }

    void scopeButtonsSetTheLayers()
    {
        RecipeBuilder builder;
        builder.setNumLayers(5);
        builder.setSelectedLayer(2);
        child<QSpinBox>(builder, "rangeFrom")->setValue(1);
        child<QSpinBox>(builder, "rangeTo")->setValue(3);
        QSignalSpy run(&builder, &RecipeBuilder::runRequested);

        child<QPushButton>(builder, "runLayer")->click();
        QCOMPARE(run.count(), 1);
        auto r = run[0][0].value<Recipe>();
        QCOMPARE(r.first_layer, 2);
        QCOMPARE(r.last_layer, 2);
        QCOMPARE(builder.scope(), RecipeBuilder::Scope::SelectedLayer);
        QVERIFY(builder.yaml().contains(QStringLiteral("layers: [2, 2]")));
        QCOMPARE(r.name, std::string("gptq-int4-g128-asym-L2"));

        child<QPushButton>(builder, "runRange")->click();
        r = run[1][0].value<Recipe>();
        QCOMPARE(r.first_layer, 1);
        QCOMPARE(r.last_layer, 3);
        QCOMPARE(child<QPushButton>(builder, "runRange")->text(),
                 QStringLiteral("Run on layers 1–3"));
        // A one-layer range is named as one layer ("layers 3–3" reads like a typo).
        child<QSpinBox>(builder, "rangeFrom")->setValue(3);
        QCOMPARE(child<QPushButton>(builder, "runRange")->text(), QStringLiteral("Run on layer 3"));
        child<QSpinBox>(builder, "rangeFrom")->setValue(1);

        child<QPushButton>(builder, "runModel")->click();
        r = run[2][0].value<Recipe>();
        QCOMPARE(r.first_layer, 0);
        QCOMPARE(r.last_layer, -1);
        QVERIFY(!builder.yaml().contains(QStringLiteral("layers:")));

        // Full-precision layers apply inside each scope.
        child<QLineEdit>(builder, "fullPrecisionLayers")->setText(QStringLiteral("2, 4"));
        child<QPushButton>(builder, "runModel")->click();
        QCOMPARE(run[3][0].value<Recipe>().full_precision_layers, (std::vector<int>{2, 4}));
        child<QPushButton>(builder, "runRange")->click();
        QCOMPARE(run[4][0].value<Recipe>().full_precision_layers, (std::vector<int>{2}));
        // The selected layer is kept in full precision: nothing to run there.
        QVERIFY(!child<QPushButton>(builder, "runLayer")->isEnabled());
        QVERIFY(!builder.requestRun(RecipeBuilder::Scope::SelectedLayer));
        QCOMPARE(run.count(), 5);
    }

    void invalidCombinationsShowTheErrorAndDoNotRun()
    {
        RecipeBuilder builder;
        builder.setNumLayers(5);
        QSignalSpy run(&builder, &RecipeBuilder::runRequested);
        auto* error = child<QLabel>(builder, "recipeError");
        auto* runModel = child<QPushButton>(builder, "runModel");

        child<QComboBox>(builder, "weightsKind")->setCurrentIndex(0);  // gptq with no format
        QVERIFY(!error->isHidden());
        QVERIFY2(error->text().contains(QStringLiteral("need a quantized weight format")),
                 qPrintable(error->text()));
        QVERIFY(!runModel->isEnabled());
        runModel->click();
        QVERIFY(!builder.requestRun(RecipeBuilder::Scope::WholeModel));
        QCOMPARE(run.count(), 0);

        child<QComboBox>(builder, "weightsKind")->setCurrentIndex(1);
        QVERIFY(error->isHidden());
        QVERIFY(runModel->isEnabled());

        child<QComboBox>(builder, "activationsKind")->setCurrentIndex(2);  // MX, static ranges
        child<QComboBox>(builder, "activationRanges")->setCurrentIndex(1);
        QVERIFY2(error->text().contains(QStringLiteral("static activation ranges")),
                 qPrintable(error->text()));
        QVERIFY(!runModel->isEnabled());
        child<QComboBox>(builder, "activationRanges")->setCurrentIndex(0);
        QVERIFY(runModel->isEnabled());

        child<QComboBox>(builder, "weightsGranularity")->setCurrentIndex(2);  // gptq per tensor
        QVERIFY(error->text().contains(QStringLiteral("per-tensor")));
        child<QComboBox>(builder, "weightsGranularity")->setCurrentIndex(0);

        child<QLineEdit>(builder, "fullPrecisionLayers")->setText(QStringLiteral("1, x"));
        QVERIFY(error->text().contains(QStringLiteral("'x'")));
        QVERIFY(!runModel->isEnabled());
        child<QLineEdit>(builder, "fullPrecisionLayers")->clear();

        child<QSpinBox>(builder, "rangeFrom")->setValue(4);
        child<QSpinBox>(builder, "rangeTo")->setValue(2);
        QVERIFY(!child<QPushButton>(builder, "runRange")->isEnabled());
        QVERIFY(runModel->isEnabled());
        runModel->click();
        QCOMPARE(run.count(), 1);

        QVERIFY(!builder.loadYaml(QStringLiteral("weights: int99\n")));
        QVERIFY(builder.errorText().contains(QStringLiteral("int99")));
    }

    void bundledRecipesLoadAndSave()
    {
        const QDir dir(sourceDir() + QStringLiteral("/resources/recipes"));
        const QStringList files = dir.entryList({QStringLiteral("*.yaml")}, QDir::Files);
        QVERIFY(files.size() >= 4);
        QTemporaryDir tmp;
        for (const QString& file : files) {
            RecipeBuilder builder;
            QVERIFY2(builder.loadFile(dir.filePath(file)), qPrintable(builder.errorText()));
            const Recipe original = Recipe::load(dir.filePath(file).toStdString());
            QCOMPARE(builder.recipe().to_yaml(), original.to_yaml());
            QString error;
            const QString saved = tmp.filePath(file);
            QVERIFY2(builder.saveFile(saved, &error), qPrintable(error));
            QCOMPARE(Recipe::load(saved.toStdString()).to_yaml(), original.to_yaml());
        }
    }

    void sessionCalibrationIsAdopted()
    {
        RecipeBuilder builder;
        qs::CalibrationSettings c;
        c.dataset = "/data/wikitext-2/valid.txt";
        c.samples = 32;
        c.seqlen = 256;
        builder.setCalibration(c);
        QCOMPARE(builder.recipe().calibration.dataset, c.dataset);
        QCOMPARE(builder.recipe().calibration.samples, 32);
        auto* note = child<QLabel>(builder, "calibrationNote");
        QVERIFY(note->isHidden());
        child<QSpinBox>(builder, "calibrationSamples")->setValue(64);
        QVERIFY(!note->isHidden());
    }

    void screenshot()
    {
        const QByteArray dir = qgetenv("QS_SCREENSHOT_DIR");
        if (dir.isEmpty()) QSKIP("set QS_SCREENSHOT_DIR to write screenshots");
        RecipeBuilder builder;
        builder.setNumLayers(5);
        builder.setSelectedLayer(3);
        QVERIFY(builder.loadYaml(QStringLiteral(
            "methods: [gptq, awq]\nweights: int4-g128-asym\nactivations: mxint8-32\n"
            "calibration: {dataset: /work/shared/data/wikitext-2/valid.txt, samples: 32, "
            "seqlen: 256}\n")));
        builder.resize(380, 800);
        builder.show();
        QTest::qWait(50);
        QVERIFY(builder.grab().save(QString::fromLocal8Bit(dir) + "/recipe_builder.png"));
        builder.resize(380, 1400);  // every section, unscrolled
        QTest::qWait(50);
        QVERIFY(builder.grab().save(QString::fromLocal8Bit(dir) + "/recipe_builder_full.png"));
        builder.resize(380, 800);
        child<QComboBox>(builder, "weightsKind")->setCurrentIndex(0);
        QTest::qWait(50);
        QVERIFY(builder.grab().save(QString::fromLocal8Bit(dir) + "/recipe_builder_error.png"));
    }
};

QTEST_MAIN(TestRecipeBuilder)
#include "test_recipe_builder.moc"
