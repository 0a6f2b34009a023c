// Help > User Guide: the dialog finds docs/user-guide.md (QS_DOCS_DIR, the installed
// share/doc/quantscope, or the source tree), renders it, and every screenshot it references
// loads.
#include <QRegularExpression>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextDocument>
#include <QtTest>

#include "widgets/user_guide_dialog.h"

namespace {
QString docsDir()
{
    return QDir(QFileInfo(QStringLiteral(__FILE__)).absolutePath() + QStringLiteral("/../../docs"))
        .absolutePath();
}
}  // namespace

class TestUserGuide : public QObject {
    Q_OBJECT
private slots:
    void rendersTheGuideWithEveryImage()
    {
        qputenv("QS_DOCS_DIR", docsDir().toUtf8());
        UserGuideDialog dialog;
        QVERIFY(dialog.hasGuide());
        QCOMPARE(UserGuideDialog::docsDirectory(), docsDir());
        QTextDocument* doc = dialog.browser()->document();
        QVERIFY(doc->toPlainText().contains(QStringLiteral("Pareto")));
        // Every ![...](img/x.png) of the markdown is an image resource the browser can load.
        QFile file(docsDir() + QStringLiteral("/user-guide.md"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        static const QRegularExpression image(QStringLiteral(R"(!\[[^\]]*\]\(([^)]+)\))"));
        int images = 0;
        for (auto it = image.globalMatch(text); it.hasNext(); ++images) {
            const QString name = it.next().captured(1);
            const QVariant loaded =
                dialog.browser()->loadResource(QTextDocument::ImageResource, QUrl(name));
            const QImage image = loaded.value<QImage>();
            QVERIFY2(!image.isNull(), qPrintable(name));
            QVERIFY2(image.width() <= 840, qPrintable(name));  // scaled to the reading width
        }
        QVERIFY(images >= 5);
        // The table of contents' #links land on the headings.
        QVERIFY(!doc->find(QStringLiteral("Opening a model")).isNull());
        bool anchored = false;
        for (QTextBlock b = doc->begin(); b.isValid() && !anchored; b = b.next())
            for (auto it = b.begin(); !it.atEnd(); ++it)
                anchored |= it.fragment().charFormat().anchorNames().contains(
                    QStringLiteral("opening-a-model"));
        QVERIFY(anchored);
    }
};

QTEST_MAIN(TestUserGuide)
#include "test_user_guide.moc"
