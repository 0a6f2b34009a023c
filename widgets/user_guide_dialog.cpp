#include "widgets/user_guide_dialog.h"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QRegularExpression>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

namespace {

const char* k_guideFile = "user-guide.md";
constexpr int k_maxImageWidth = 840;  // screenshots are 1400-1600 px wide

// Scales screenshots down to the reading width instead of a sideways scroll.
class GuideBrowser : public QTextBrowser {
public:
    using QTextBrowser::QTextBrowser;
    QVariant loadResource(int type, const QUrl& name) override
    {
        QVariant loaded = QTextBrowser::loadResource(type, name);
        if (type != QTextDocument::ImageResource || !loaded.isValid()) return loaded;
        QImage image = loaded.typeId() == QMetaType::QImage
                           ? loaded.value<QImage>()
                           : QImage::fromData(loaded.toByteArray());
        if (image.width() > k_maxImageWidth)
            image = image.scaledToWidth(k_maxImageWidth, Qt::SmoothTransformation);
        return image;
    }
};

// GitHub's heading anchors ("Opening a model" -> #opening-a-model), which Qt's Markdown
// reader does not make, so the guide's table of contents scrolls within the window.
void addHeadingAnchors(QTextDocument* doc)
{
    static const QRegularExpression dropped(QStringLiteral("[^a-z0-9 _-]"));
    for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
        if (block.blockFormat().headingLevel() == 0) continue;
        QString slug = block.text().toLower().remove(dropped);
        slug.replace(QLatin1Char(' '), QLatin1Char('-'));
        QTextCursor cursor(block);
        cursor.select(QTextCursor::BlockUnderCursor);
        QTextCharFormat anchor;
        anchor.setAnchor(true);
        anchor.setAnchorNames({slug});
        cursor.mergeCharFormat(anchor);
    }
}

QStringList candidateDirectories()
{
    QStringList dirs;
    const QString env = qEnvironmentVariable("QS_DOCS_DIR");
    if (!env.isEmpty()) dirs << env;
    // The package installs docs/ as share/doc/quantscope/docs.
    const QDir bin(QCoreApplication::applicationDirPath());
    dirs << bin.absoluteFilePath(QStringLiteral("../share/doc/quantscope/docs"))
         << bin.absoluteFilePath(QStringLiteral("../share/doc/quantscope"));
#ifdef QS_SOURCE_DIR
    dirs << QStringLiteral(QS_SOURCE_DIR "/docs");
#endif
    return dirs;
}

}  // namespace

QString UserGuideDialog::docsDirectory()
{
    for (const QString& dir : candidateDirectories())
        if (QFileInfo::exists(QDir(dir).filePath(QLatin1String(k_guideFile))))
            return QDir(dir).absolutePath();
    return {};
}

UserGuideDialog::UserGuideDialog(QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("QuantScope User Guide"));
    resize(900, 760);
    m_browser = new GuideBrowser(this);
    // Links to the other docs (recipes.md, ...) open in the same window; web links outside.
    m_browser->setOpenExternalLinks(true);
    const QString dir = docsDirectory();
    QFile file(QDir(dir).filePath(QLatin1String(k_guideFile)));
    if (!dir.isEmpty() && file.open(QIODevice::ReadOnly)) {
        m_found = true;
        // Relative image and document links resolve against the docs folder.
        m_browser->setSearchPaths({dir});
        m_browser->document()->setBaseUrl(QUrl::fromLocalFile(dir + QLatin1Char('/')));
        m_browser->setMarkdown(QString::fromUtf8(file.readAll()));
        addHeadingAnchors(m_browser->document());
    } else {
        m_browser->setPlainText(
            tr("The user guide (%1) was not found. Looked in:\n\n%2\n\nSet QS_DOCS_DIR to the "
               "folder that holds it (docs/ in the source tree).")
                .arg(QLatin1String(k_guideFile), candidateDirectories().join(QLatin1Char('\n'))));
    }
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_browser);
    layout->addWidget(buttons);
}
