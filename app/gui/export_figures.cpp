#include "app/gui/export_figures.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

#include "core/session/session_file.h"
#include "core/util/error.h"
#include "widgets/channel_absmax_view.h"
#include "widgets/depth_error_view.h"
#include "widgets/figure_export.h"
#include "widgets/figure_style.h"
#include "widgets/gptq_error_view.h"
#include "widgets/histogram_view.h"
#include "widgets/kurtosis_map_view.h"
#include "widgets/pareto_view.h"
#include "widgets/session_model.h"

namespace qs::gui {
namespace {

// The on-screen size of the hidden views: what the screen preset exports.
const QSize k_viewSize(1000, 650);

struct Request {
    QString session;
    QString outDir;
    FigureExportOptions options;
    QString experiment;
    QString compare;
    QString dataset;
};

class UsageError : public qs::QsError {
public:
    using qs::QsError::QsError;
};

void printError(const QString& message)
{
    std::fprintf(stderr, "quantscope: %s\n", qPrintable(message));
}

bool isQuantized(const qs::ExperimentRecord& e)
{
    for (const auto& linear : e.linears)
        if (!linear.method.empty()) return true;
    return false;
}

double perplexityOn(const qs::ExperimentRecord& e, const QString& dataset)
{
    for (const auto& p : e.perplexity)
        if (QString::fromStdString(p.dataset) == dataset && std::isfinite(p.ppl)) return p.ppl;
    return std::numeric_limits<double>::infinity();
}

Request parseRequest(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Writes the figures of a QuantScope session without a window: Pareto frontiers, error "
        "across\ndepth, kurtosis maps, and the GPTQ column error, histograms and channel absmax "
        "of one linear,\nas PDF, SVG, PNG and the CSV data behind each. Each file written is "
        "printed on stdout."));
    parser.addHelpOption();
    const QCommandLineOption session(QStringLiteral("export-figures"),
                                     QStringLiteral("Session file to read (required)."),
                                     QStringLiteral("FILE.h5"));
    const QCommandLineOption out(QStringLiteral("out"),
                                 QStringLiteral("Output folder, created when missing (required)."),
                                 QStringLiteral("DIR"));
    const QCommandLineOption preset(QStringLiteral("preset"),
                                    QStringLiteral("Figure size: %1 (default one-column).")
                                        .arg(FigureStyle::presetNames().join(QStringLiteral(", "))),
                                    QStringLiteral("NAME"), QStringLiteral("one-column"));
    const QCommandLineOption font(QStringLiteral("font"),
                                  QStringLiteral("Font family (default DejaVu Sans)."),
                                  QStringLiteral("FAMILY"));
    const QCommandLineOption fontSize(
        QStringLiteral("font-size"),
        QStringLiteral("Font size in points, 4 to 72 (default: 8 for the column presets, 9 "
                       "for screen)."),
        QStringLiteral("PT"));
    const QCommandLineOption dpi(QStringLiteral("dpi"),
                                 QStringLiteral("PNG resolution, 10 to 4800 (default 300)."),
                                 QStringLiteral("N"));
    const QCommandLineOption formats(
        QStringLiteral("formats"),
        QStringLiteral("Comma-separated list of pdf, svg, png, csv (default: all four)."),
        QStringLiteral("LIST"), figureFormats().join(QLatin1Char(',')));
    const QCommandLineOption experiment(
        QStringLiteral("experiment"),
        QStringLiteral("Experiment to show (default: the best quantized one)."),
        QStringLiteral("ID"));
    const QCommandLineOption compare(
        QStringLiteral("compare"),
        QStringLiteral("Experiment to compare with (default: the RTN recipe of the same format)."),
        QStringLiteral("ID"));
    const QCommandLineOption dataset(
        QStringLiteral("dataset"),
        QStringLiteral("Perplexity dataset (default: every dataset for the Pareto figures, the "
                       "first one for choosing the experiment)."),
        QStringLiteral("LABEL"));
    parser.addOptions(
        {session, out, preset, font, fontSize, dpi, formats, experiment, compare, dataset});
    // "--export-figures --help" reads --help as the session file: look for it before parsing.
    const bool help =
        arguments.contains(QStringLiteral("--help")) || arguments.contains(QStringLiteral("-h"));
    if (!help && !parser.parse(arguments)) throw UsageError(parser.errorText().toStdString());
    if (help) {
        std::printf("%s%s", qPrintable(parser.helpText()),
                    "\nExamples:\n"
                    "  quantscope --export-figures /tmp/stories.h5 --out figs\n"
                    "  quantscope --export-figures /tmp/stories.h5 --out figs --preset two-column "
                    "--formats pdf,csv --experiment exp-0003\n");
        std::exit(0);
    }
    if (!parser.positionalArguments().isEmpty())
        throw UsageError("unexpected argument " +
                         parser.positionalArguments().front().toStdString());

    Request request;
    request.session = parser.value(session);
    request.outDir = parser.value(out);
    if (request.session.isEmpty()) throw UsageError("--export-figures needs a session file");
    if (request.outDir.isEmpty()) throw UsageError("--export-figures needs --out DIR");
    const QString presetName = parser.value(preset);
    if (!FigureStyle::presetNames().contains(presetName))
        throw UsageError(QStringLiteral("--preset %1: unknown preset (known: %2)")
                             .arg(presetName, FigureStyle::presetNames().join(", "))
                             .toStdString());
    FigureStyle style = FigureStyle::fromPreset(presetName);
    if (parser.isSet(font)) style.fontFamily = parser.value(font);
    if (parser.isSet(fontSize)) {
        bool ok = false;
        style.fontPointSize = parser.value(fontSize).toDouble(&ok);
        if (!ok || style.fontPointSize < 4 || style.fontPointSize > 72)
            throw UsageError("--font-size must be a number of points between 4 and 72");
    }
    if (parser.isSet(dpi)) {
        bool ok = false;
        style.dpi = parser.value(dpi).toInt(&ok);
        if (!ok || style.dpi < 10 || style.dpi > 4800)
            throw UsageError("--dpi must be an integer between 10 and 4800");
    }
    request.options.style = style;
    request.options.outDir = request.outDir;
    request.options.formats.clear();
    for (const QString& format :
         parser.value(formats).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString name = format.trimmed().toLower();
        if (!figureFormats().contains(name))
            throw UsageError(QStringLiteral("--formats: unknown format '%1' (known: %2)")
                                 .arg(name, figureFormats().join(", "))
                                 .toStdString());
        if (!request.options.formats.contains(name)) request.options.formats << name;
    }
    if (request.options.formats.isEmpty()) throw UsageError("--formats is empty");
    request.experiment = parser.value(experiment);
    request.compare = parser.value(compare);
    request.dataset = parser.value(dataset);
    return request;
}

QString experimentIds(const qs::SessionData& data)
{
    QStringList ids;
    for (const auto& e : data.experiments)
        ids << QString::fromStdString(e.id);
    return ids.join(QStringLiteral(", "));
}

// The quantized experiment with the lowest perplexity on `dataset`.
QString bestExperiment(const qs::SessionData& data, const QString& dataset)
{
    QString best;
    double bestPpl = std::numeric_limits<double>::infinity();
    for (const auto& e : data.experiments) {
        const double ppl = perplexityOn(e, dataset);
        if (isQuantized(e) && ppl < bestPpl) {
            bestPpl = ppl;
            best = QString::fromStdString(e.id);
        }
    }
    return best;
}

// The RTN recipe of the same format ("gptq-int4-g32-asym" -> "rtn-int4-g32-asym"): the plain
// rounding the selected method is meant to improve on.
QString rtnCounterpart(const qs::SessionData& data, const qs::ExperimentRecord& selected)
{
    const QString name = QString::fromStdString(selected.name);
    const QString format = name.section(QLatin1Char('-'), 1);
    if (format.isEmpty() || name.startsWith(QLatin1String("rtn-"))) return {};
    const std::string wanted = ("rtn-" + format).toStdString();
    for (const auto& e : data.experiments)
        if (e.name == wanted) return QString::fromStdString(e.id);
    return {};
}

// The quantized linear with the largest GPTQ error; without GPTQ, the lowest output SQNR.
const qs::LinearRecord* worstLinear(const qs::ExperimentRecord& e)
{
    const qs::LinearRecord* worst = nullptr;
    for (const auto& linear : e.linears)
        if (!linear.gptq_column_error.empty() &&
            (!worst || linear.gptq_total_error > worst->gptq_total_error))
            worst = &linear;
    if (worst) return worst;
    for (const auto& linear : e.linears)
        if (!linear.method.empty() && (!worst || linear.output_sqnr_db < worst->output_sqnr_db))
            worst = &linear;
    return worst;
}

// Hidden, laid out at the screen size (layouts only settle for a widget that is shown).
void prepare(QWidget* view)
{
    view->setAttribute(Qt::WA_DontShowOnScreen);
    view->resize(k_viewSize);
    view->show();
}

void exportView(FigureView& view, const FigureExportOptions& options)
{
    if (!view.hasFigure()) {
        printError(QStringLiteral("%1: nothing to plot, skipped").arg(view.figureName()));
        return;
    }
    for (const QString& path : exportFigure(view, options))
        std::printf("%s\n", qPrintable(QDir::cleanPath(path)));
    std::fflush(stdout);
}

void run(const Request& request)
{
    if (!QFileInfo::exists(request.session))
        qs::fail_file(request.session.toStdString(), "no such file");
    SessionModel model;
    model.setData(qs::read_session(request.session.toStdString()), request.session);
    const qs::SessionData& data = model.data();

    auto pareto = std::make_unique<ParetoView>(&model);
    const QStringList datasets = pareto->datasets();
    if (!request.dataset.isEmpty() && !datasets.contains(request.dataset))
        qs::fail_file(request.session.toStdString(),
                      QStringLiteral("no perplexity on dataset '%1' (have: %2)")
                          .arg(request.dataset, datasets.join(", "))
                          .toStdString());
    const QString dataset = request.dataset.isEmpty() ? datasets.value(0) : request.dataset;

    QString selected = request.experiment;
    if (selected.isEmpty()) selected = bestExperiment(data, dataset);
    for (const QString& id : {request.experiment, request.compare})
        if (!id.isEmpty() && !model.experiment(id))
            qs::fail_file(request.session.toStdString(),
                          QStringLiteral("no experiment '%1' (have: %2)")
                              .arg(id, experimentIds(data))
                              .toStdString());
    model.selectExperiment(selected);
    const qs::ExperimentRecord* chosen = model.currentExperiment();
    QString compared = request.compare;
    if (compared.isEmpty() && chosen) compared = rtnCounterpart(data, *chosen);
    model.selectComparedExperiment(compared);
    if (chosen)
        std::fprintf(
            stderr, "quantscope: figures of %s (%s)%s\n", chosen->id.c_str(), chosen->name.c_str(),
            compared.isEmpty()
                ? ""
                : qPrintable(QStringLiteral(", compared with %1 (%2)")
                                 .arg(compared,
                                      QString::fromStdString(model.experiment(compared)->name))));

    const FigureExportOptions& options = request.options;
    prepare(pareto.get());
    for (const QString& label : request.dataset.isEmpty() ? datasets : QStringList{dataset}) {
        pareto->setDataset(label);
        exportView(*pareto, options);
    }

    DepthErrorView depth(&model);
    prepare(&depth);
    exportView(depth, options);

    KurtosisMapView kurtosis(&model);
    prepare(&kurtosis);
    for (TensorKind kind : {TensorKind::Weights, TensorKind::Activations}) {
        kurtosis.setTensorKind(kind);
        exportView(kurtosis, options);
    }

    const qs::LinearRecord* linear = chosen ? worstLinear(*chosen) : nullptr;
    if (!linear) return;
    model.selectLinear(linear->layer, QString::fromStdString(linear->module));
    GptqColumnErrorView gptq(&model);
    prepare(&gptq);
    // With act-order the groups interleave in the original column order; a paper figure shows
    // them in processing order, where each group is one contiguous band.
    gptq.setProcessingOrder(true);
    gptq.refresh();
    exportView(gptq, options);
    HistogramView histogram(&model);
    ChannelAbsmaxView absmax(&model);
    prepare(&histogram);
    prepare(&absmax);
    for (TensorKind kind : {TensorKind::Weights, TensorKind::Activations}) {
        histogram.setTensorKind(kind);
        histogram.refresh();
        exportView(histogram, options);
        absmax.setTensorKind(kind);
        absmax.refresh();
        exportView(absmax, options);
    }
}

}  // namespace

bool isExportFiguresCall(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--export-figures") == 0 ||
            std::strncmp(argv[i], "--export-figures=", 17) == 0)
            return true;
    return false;
}

int exportFiguresMain(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("QuantScope"));
    try {
        run(parseRequest(QApplication::arguments()));
    } catch (const UsageError& error) {
        printError(QString::fromStdString(error.what()) +
                   QStringLiteral(" (run 'quantscope --export-figures --help' for the options)"));
        return 2;
    } catch (const std::exception& error) {
        printError(QString::fromStdString(error.what()));
        return 1;
    }
    return 0;
}

}  // namespace qs::gui
