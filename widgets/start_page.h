// What the main window shows before a model is open: how to open one, in one glance.
#pragma once

#include <QWidget>

namespace qs::gui {

class StartPage : public QWidget {
    Q_OBJECT

public:
    explicit StartPage(QWidget* parent = nullptr);

signals:
    void openRequested();
};

}  // namespace qs::gui
