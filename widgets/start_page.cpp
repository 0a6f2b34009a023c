#include "widgets/start_page.h"

#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace qs::gui {

StartPage::StartPage(QWidget* parent) : QWidget(parent)
{
    auto* title = new QLabel(tr("No model open"), this);
    QFont titleFont = title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.6);
    titleFont.setBold(true);
    title->setFont(titleFont);
    title->setAlignment(Qt::AlignCenter);

    auto* hint = new QLabel(tr("Open a Hugging Face model folder (config.json and *.safetensors)\n"
                               "with File \u25B8 Open Model\u2026 (Ctrl+O),\n"
                               "or drag the folder from your file manager onto this window."),
                            this);
    hint->setAlignment(Qt::AlignCenter);
    hint->setObjectName(QStringLiteral("startHint"));

    auto* open = new QPushButton(tr("Open Model\u2026"), this);
    open->setDefault(true);
    connect(open, &QPushButton::clicked, this, &StartPage::openRequested);

    auto* layout = new QVBoxLayout(this);
    layout->addStretch(1);
    layout->addWidget(title);
    layout->addSpacing(12);
    layout->addWidget(hint);
    layout->addSpacing(16);
    layout->addWidget(open, 0, Qt::AlignHCenter);
    layout->addStretch(1);
}

}  // namespace qs::gui
