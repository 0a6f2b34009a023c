// Help > User Guide: docs/user-guide.md (with its screenshots) rendered in a window, so a first-
// time user reads the guide inside the app, installed or run from the build tree.
#pragma once

#include <QDialog>
#include <QString>

class QTextBrowser;

class UserGuideDialog : public QDialog {
    Q_OBJECT
public:
    explicit UserGuideDialog(QWidget* parent = nullptr);

    // The folder holding user-guide.md: $QS_DOCS_DIR, then <binary>/../share/doc/quantscope/docs
    // (the installed package), then the source tree's docs/; empty when none has the guide.
    static QString docsDirectory();
    // False when the guide was not found (the window then says where it looked).
    bool hasGuide() const { return m_found; }
    QTextBrowser* browser() const { return m_browser; }

private:
    QTextBrowser* m_browser = nullptr;
    bool m_found = false;
};
