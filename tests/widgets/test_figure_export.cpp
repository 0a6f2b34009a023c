// Offscreen tests of the figure exporter (widgets/figure_export.h) on a small scatter view with
// known content: for both print presets the PDF is one page of the preset's size in points with
// embedded fonts, the SVG parses and is sized in millimetres with the axis label as text, the PNG
// has mm / 25.4 * dpi pixels, the CSV has one row per plotted point; failures name the file or
// folder, leave no partial file, and the on-screen style comes back after every export.
#include <cmath>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>
#include <qcustomplot.h>
#include <unistd.h>

#include "core/util/error.h"
#include "widgets/figure_export.h"
#include "widgets/figure_style.h"

using qs::gui::FigureExportOptions;
using qs::gui::FigureStyle;

namespace {

const QString k_xLabel = QStringLiteral("Test axis label");
constexpr int k_points = 17;

// The smallest FigureView: a scatter of k_points points, styled with the shared helpers.
class ScatterFigure : public QWidget, public qs::gui::FigureView {
public:
    ScatterFigure()
    {
        m_plot = new QCustomPlot(this);
        m_plot->resize(800, 500);
        QVector<double> x, y;
        for (int i = 0; i < k_points; ++i) {
            x << i;
            y << std::sin(i * 0.4) * 100;
        }
        auto* graph = m_plot->addGraph();
        graph->setData(x, y);
        graph->setLineStyle(QCPGraph::lsNone);
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
        m_plot->xAxis->setLabel(k_xLabel);
        m_plot->yAxis->setLabel(QStringLiteral("Value (units)"));
        m_plot->rescaleAxes();
        applyFigureStyle(FigureStyle::fromPreset(QStringLiteral("screen")));
    }
    QCustomPlot* figurePlot() const override { return m_plot; }
    QString figureName() const override { return QStringLiteral("scatter"); }
    QString figureCsv() const override
    {
        QString csv = QStringLiteral("x,y\n");
        auto* graph = m_plot->graph(0);
        for (int i = 0; i < graph->dataCount(); ++i)
            csv += QStringLiteral("%1,%2\n")
                       .arg(graph->data()->at(i)->key)
                       .arg(graph->data()->at(i)->value);
        return csv;
    }
    void applyFigureStyle(const FigureStyle& style) override
    {
        qs::gui::applyPlotStyle(m_plot, style);
    }
    bool hasFigure() const override { return true; }

private:
    QCustomPlot* m_plot;
};

QByteArray readAll(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

double mmToPoints(double mm)
{
    return mm / 25.4 * 72.0;
}

// Export and return the written paths; a QsError fails the test with its message.
QStringList exportOrFail(ScatterFigure& figure, const FigureExportOptions& options)
{
    try {
        return qs::gui::exportFigure(figure, options);
    } catch (const qs::QsError& error) {
        qWarning("%s", error.what());
        return {};
    }
}

}  // namespace

class FigureExportTest : public QObject {
    Q_OBJECT

private slots:
    void presets();
    void pdfPage_data();
    void pdfPage();
    void svgDocument_data();
    void svgDocument();
    void pngSize_data();
    void pngSize();
    void csvRows();
    void restoresScreenStyle();
    void unwritableFolderNamesItAndLeavesNothing();
    void readOnlyFolderLeavesNoPartialFile();
    void blockedFileLeavesNoPartialFile();
    void unknownFormat();
};

void FigureExportTest::presets()
{
    QCOMPARE(FigureStyle::presetNames(), QStringList({"screen", "one-column", "two-column"}));
    const FigureStyle one = FigureStyle::fromPreset(QStringLiteral("one-column"));
    QCOMPARE(one.widthMm, 89.0);
    QCOMPARE(one.fontPointSize, 8.0);
    QCOMPARE(FigureStyle::fromPreset(QStringLiteral("two-column")).widthMm, 183.0);
    const FigureStyle unknown = FigureStyle::fromPreset(QStringLiteral("poster"));
    QCOMPARE(unknown.preset, QStringLiteral("screen"));
    QCOMPARE(unknown.fontPointSize, 9.0);
    QCOMPARE(qs::gui::okabeIto().size(), 8);
    QCOMPARE(qs::gui::okabeIto().at(1), QColor(0xE6, 0x9F, 0x00));
}

void FigureExportTest::pdfPage_data()
{
    QTest::addColumn<QString>("preset");
    QTest::newRow("one-column") << QStringLiteral("one-column");
    QTest::newRow("two-column") << QStringLiteral("two-column");
}

void FigureExportTest::pdfPage()
{
    QFETCH(QString, preset);
    QTemporaryDir dir;
    ScatterFigure figure;
    FigureExportOptions options;
    options.style = FigureStyle::fromPreset(preset);
    options.formats = {QStringLiteral("pdf")};
    options.outDir = dir.path();
    const QStringList written = exportOrFail(figure, options);
    QCOMPARE(written, QStringList{dir.filePath(QStringLiteral("scatter.pdf"))});
    const QByteArray pdf = readAll(written.front());
    QVERIFY(pdf.startsWith("%PDF"));

    // Exactly one page object ("/Type /Page", not "/Type /Pages").
    static const QRegularExpression pageObject(QStringLiteral("/Type\\s*/Page(?!s)"));
    QCOMPARE(QString::fromLatin1(pdf).count(pageObject), 1);

    static const QRegularExpression mediaBox(QStringLiteral(
        "/MediaBox\\s*\\[\\s*([-\\d.]+)\\s+([-\\d.]+)\\s+([-\\d.]+)\\s+([-\\d.]+)\\s*\\]"));
    const auto box = mediaBox.match(QString::fromLatin1(pdf));
    QVERIFY2(box.hasMatch(), "no MediaBox");
    const double width = box.captured(3).toDouble() - box.captured(1).toDouble();
    const double height = box.captured(4).toDouble() - box.captured(2).toDouble();
    const double expectedWidth = mmToPoints(options.style.widthMm);
    const double expectedHeight = mmToPoints(options.style.heightMm);
    QVERIFY2(std::abs(width - expectedWidth) <= 1.0,
             qPrintable(QStringLiteral("width %1 pt, expected %2").arg(width).arg(expectedWidth)));
    QVERIFY2(
        std::abs(height - expectedHeight) <= 1.0,
        qPrintable(QStringLiteral("height %1 pt, expected %2").arg(height).arg(expectedHeight)));
    QVERIFY2(pdf.contains("/FontFile2") || pdf.contains("/FontFile3"), "fonts are not embedded");
}

void FigureExportTest::svgDocument_data()
{
    pdfPage_data();
}

void FigureExportTest::svgDocument()
{
    QFETCH(QString, preset);
    QTemporaryDir dir;
    ScatterFigure figure;
    FigureExportOptions options;
    options.style = FigureStyle::fromPreset(preset);
    options.formats = {QStringLiteral("svg")};
    options.outDir = dir.path();
    const QStringList written = exportOrFail(figure, options);
    QCOMPARE(written.size(), 1);
    const QByteArray svg = readAll(written.front());

    QXmlStreamReader xml(svg);
    double widthMm = 0, heightMm = 0;
    bool root = true;
    QString text;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement() && root) {
            root = false;
            QCOMPARE(xml.name().toString(), QStringLiteral("svg"));
            const QString width = xml.attributes().value(QStringLiteral("width")).toString();
            const QString height = xml.attributes().value(QStringLiteral("height")).toString();
            QVERIFY2(width.endsWith(QStringLiteral("mm")), qPrintable(width));
            widthMm = width.chopped(2).toDouble();
            heightMm = height.chopped(2).toDouble();
        }
        if (xml.isStartElement() && xml.name() == QStringLiteral("text"))
            text += xml.readElementText(QXmlStreamReader::IncludeChildElements) + QLatin1Char('\n');
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    // The pixel size is rounded at the layout DPI: within half a pixel (0.3 mm at 96 dpi).
    QVERIFY2(std::abs(widthMm - options.style.widthMm) < 0.3, qPrintable(QString::number(widthMm)));
    QVERIFY2(std::abs(heightMm - options.style.heightMm) < 0.3,
             qPrintable(QString::number(heightMm)));
    QVERIFY2(text.contains(k_xLabel), qPrintable(text.left(400)));
}

void FigureExportTest::pngSize_data()
{
    QTest::addColumn<QString>("preset");
    QTest::addColumn<int>("dpi");
    for (const QString preset : {QStringLiteral("one-column"), QStringLiteral("two-column")})
        for (int dpi : {150, 600})
            QTest::newRow(qPrintable(QStringLiteral("%1 %2 dpi").arg(preset).arg(dpi)))
                << preset << dpi;
}

void FigureExportTest::pngSize()
{
    QFETCH(QString, preset);
    QFETCH(int, dpi);
    QTemporaryDir dir;
    ScatterFigure figure;
    FigureExportOptions options;
    options.style = FigureStyle::fromPreset(preset);
    options.style.dpi = dpi;
    options.formats = {QStringLiteral("png")};
    options.outDir = dir.path();
    const QStringList written = exportOrFail(figure, options);
    QCOMPARE(written.size(), 1);
    const QImage image(written.front());
    QVERIFY(!image.isNull());
    const double width = options.style.widthMm / 25.4 * dpi;
    const double height = options.style.heightMm / 25.4 * dpi;
    QVERIFY2(std::abs(image.width() - width) <= 1.0,
             qPrintable(QStringLiteral("%1 px, expected %2").arg(image.width()).arg(width)));
    QVERIFY2(std::abs(image.height() - height) <= 1.0,
             qPrintable(QStringLiteral("%1 px, expected %2").arg(image.height()).arg(height)));
    QVERIFY(std::abs(image.dotsPerMeterX() * 0.0254 - dpi) < 1);
    // Something was drawn: dark pixels of text and markers on the white page.
    int dark = 0;
    for (int y = 0; y < image.height(); y += 4)
        for (int x = 0; x < image.width(); x += 4)
            dark += qGray(image.pixel(x, y)) < 128;
    QVERIFY(dark > 50);
}

void FigureExportTest::csvRows()
{
    QTemporaryDir dir;
    ScatterFigure figure;
    FigureExportOptions options;
    options.formats = {QStringLiteral("csv")};
    options.outDir = dir.path();
    const QStringList written = exportOrFail(figure, options);
    QCOMPARE(written.size(), 1);
    const QStringList lines =
        QString::fromUtf8(readAll(written.front())).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.front(), QStringLiteral("x,y"));
    QCOMPARE(lines.size() - 1, figure.figurePlot()->graph(0)->dataCount());
    QCOMPARE(lines.size() - 1, k_points);
}

void FigureExportTest::restoresScreenStyle()
{
    QTemporaryDir dir;
    ScatterFigure figure;
    const QFont before = figure.figurePlot()->xAxis->labelFont();
    FigureExportOptions options;
    options.style = FigureStyle::fromPreset(QStringLiteral("two-column"));
    options.style.fontPointSize = 12;
    options.formats = {QStringLiteral("pdf"), QStringLiteral("png")};
    options.outDir = dir.path();
    QCOMPARE(exportOrFail(figure, options).size(), 2);
    QCOMPARE(figure.figurePlot()->xAxis->labelFont().pointSizeF(), before.pointSizeF());
    QCOMPARE(figure.figurePlot()->xAxis->labelFont().family(), before.family());
}

void FigureExportTest::unwritableFolderNamesItAndLeavesNothing()
{
    QTemporaryDir dir;
    // A folder below a regular file can never be created, whoever runs the test.
    const QString blocker = dir.filePath(QStringLiteral("not-a-folder"));
    QFile file(blocker);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    const QString outDir = blocker + QStringLiteral("/figures");
    ScatterFigure figure;
    FigureExportOptions options;
    options.outDir = outDir;
    try {
        qs::gui::exportFigure(figure, options);
        QFAIL("exporting into an impossible folder succeeded");
    } catch (const qs::QsError& error) {
        QVERIFY2(QString::fromUtf8(error.what()).contains(outDir), error.what());
    }
    QCOMPARE(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries),
             QStringList{QStringLiteral("not-a-folder")});
    QCOMPARE(figure.figurePlot()->xAxis->labelFont().pointSizeF(), 9.0);
}

void FigureExportTest::readOnlyFolderLeavesNoPartialFile()
{
    if (geteuid() == 0) QSKIP("root writes into read-only folders");
    QTemporaryDir dir;
    QVERIFY(QFile::setPermissions(dir.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner));
    ScatterFigure figure;
    FigureExportOptions options;
    options.outDir = dir.path();
    QString message;
    try {
        qs::gui::exportFigure(figure, options);
    } catch (const qs::QsError& error) {
        message = QString::fromUtf8(error.what());
    }
    QFile::setPermissions(dir.path(),
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    QVERIFY2(message.contains(dir.filePath(QStringLiteral("scatter.pdf"))), qPrintable(message));
    QVERIFY(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).isEmpty());
}

void FigureExportTest::blockedFileLeavesNoPartialFile()
{
    // A folder where the SVG should go: that write fails whoever runs the test (root too).
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("scatter.svg")));
    ScatterFigure figure;
    FigureExportOptions options;
    options.outDir = dir.path();
    QString message;
    try {
        qs::gui::exportFigure(figure, options);
    } catch (const qs::QsError& error) {
        message = QString::fromUtf8(error.what());
    }
    QVERIFY2(message.startsWith(dir.filePath(QStringLiteral("scatter.svg")) + QStringLiteral(": ")),
             qPrintable(message));
    // The PDF before it is complete; nothing else (no temporary file, no PNG or CSV after it).
    QCOMPARE(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden),
             QStringList({"scatter.pdf", "scatter.svg"}));
    QVERIFY(readAll(dir.filePath(QStringLiteral("scatter.pdf"))).startsWith("%PDF"));
    QCOMPARE(figure.figurePlot()->xAxis->labelFont().pointSizeF(), 9.0);  // screen style back
}

void FigureExportTest::unknownFormat()
{
    QTemporaryDir dir;
    ScatterFigure figure;
    FigureExportOptions options;
    options.formats = {QStringLiteral("eps")};
    options.outDir = dir.path();
    QVERIFY_THROWS_EXCEPTION(qs::QsError, qs::gui::exportFigure(figure, options));
    QVERIFY(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).isEmpty());
}

QTEST_MAIN(FigureExportTest)
#include "test_figure_export.moc"
