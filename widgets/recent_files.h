// Recently opened sessions and models, remembered across runs (QSettings), most recent first.
// Entries that no longer exist are dropped when the list is read, so the menu never offers a
// file that would fail to open.
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace qs::gui {

class RecentFiles : public QObject {
    Q_OBJECT

public:
    enum class Kind { Session, Model };
    static constexpr int k_maxEntries = 10;

    explicit RecentFiles(QObject* parent = nullptr);

    QStringList entries(Kind kind) const;
    void add(Kind kind, const QString& path);
    void clear();
    // Fills `menu` with both lists; choosing an entry emits sessionChosen / modelChosen.
    void fillMenu(QMenu* menu);

signals:
    void changed();
    void sessionChosen(const QString& path);
    void modelChosen(const QString& dir);
};

}  // namespace qs::gui
