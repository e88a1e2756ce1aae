#pragma once
// Facts about a model file or catalog entry for the Models page, and the memory estimate.
#include <QString>
#include <QVariantMap>

namespace bonsai::ui {

struct ModelShape {
    qint64 layers = 0;
    qint64 kvHeads = 0;
    qint64 headDim = 0;
    qint64 contextLength = 0;  // the model's training context
};

struct InstalledModel {
    QString path;
    QString name;          // file name without .gguf
    QString architecture;  // general.architecture
    QString tensorType;    // the type holding most of the weight bytes ("Q1_0", "F32", ...)
    qint64 sizeBytes = 0;
    ModelShape shape;
    QString error;         // set when the file could not be read as GGUF
};

// Reads the GGUF header of `path` (no weights are touched). Never throws: problems go to `error`.
InstalledModel readInstalledModel(const QString& path);

// Bytes needed to run a model: the weights (file size) + an f16 KV cache of `context` tokens
// (2 · layers · context · kvHeads · headDim · 2 bytes) + 10 % working memory. 0 when the shape is unknown.
qint64 estimateMemoryBytes(qint64 fileBytes, const ModelShape& shape, qint64 context);

// Physical RAM of this machine in bytes (0 when unknown).
qint64 physicalMemoryBytes();

// "1.2 GiB"-style text.
QString formatBytes(qint64 bytes);

}  // namespace bonsai::ui
