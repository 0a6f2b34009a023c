#include "widgets/recent_files.h"

#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace qs::gui {
namespace {

QString keyOf(RecentFiles::Kind kind)
{
    return kind == RecentFiles::Kind::Session ? QStringLiteral("recent/sessions")
                                              : QStringLiteral("recent/models");
}

}  // namespace

RecentFiles::RecentFiles(QObject* parent) : QObject(parent) {}

QStringList RecentFiles::entries(Kind kind) const
{
    QStringList out;
    for (const QString& path : QSettings().value(keyOf(kind)).toStringList())
        if (QFileInfo::exists(path) && !out.contains(path)) out << path;
    return out;
}

void RecentFiles::add(Kind kind, const QString& path)
{
    const QString clean = QFileInfo(path).absoluteFilePath();
    QStringList list = entries(kind);
    list.removeAll(clean);
    list.prepend(clean);
    while (list.size() > k_maxEntries)
        list.removeLast();
    QSettings().setValue(keyOf(kind), list);
    emit changed();
}

void RecentFiles::clear()
{
    QSettings settings;
    settings.remove(keyOf(Kind::Session));
    settings.remove(keyOf(Kind::Model));
    emit changed();
}

void RecentFiles::fillMenu(QMenu* menu)
{
    menu->clear();
    const QStringList sessions = entries(Kind::Session);
    const QStringList models = entries(Kind::Model);
    if (sessions.isEmpty() && models.isEmpty()) {
        menu->addAction(tr("(nothing yet)"))->setEnabled(false);
        return;
    }
    if (!sessions.isEmpty()) menu->addSection(tr("Sessions"));
    for (const QString& path : sessions)
        menu->addAction(QDir::toNativeSeparators(path), this,
                        [this, path] { emit sessionChosen(path); });
    if (!models.isEmpty()) menu->addSection(tr("Models"));
    for (const QString& dir : models)
        menu->addAction(QDir::toNativeSeparators(dir), this,
                        [this, dir] { emit modelChosen(dir); });
    menu->addSeparator();
    menu->addAction(tr("Clear Recent"), this, &RecentFiles::clear);
}

}  // namespace qs::gui
