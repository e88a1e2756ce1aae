#include "model_info.h"

#include <unistd.h>

#include <QFileInfo>
#include <QHash>
#include <exception>

#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"

namespace bonsai::ui {

InstalledModel readInstalledModel(const QString& path) {
    InstalledModel m;
    m.path = path;
    const QFileInfo fi(path);
    m.name = fi.completeBaseName();
    m.sizeBytes = fi.size();
    try {
        const auto f = bonsai::gguf::GgufFile::open(path.toStdString());
        const std::string arch = f->architecture();
        m.architecture = QString::fromStdString(arch);
        const auto intKey = [&](const char* suffix) -> qint64 {
            const auto v = f->get_int(arch + "." + suffix);
            return v ? qint64(*v) : 0;
        };
        m.shape.layers = intKey("block_count");
        m.shape.contextLength = intKey("context_length");
        const qint64 heads = intKey("attention.head_count");
        m.shape.kvHeads = intKey("attention.head_count_kv");
        if (m.shape.kvHeads == 0) m.shape.kvHeads = heads;
        m.shape.headDim = intKey("attention.key_length");
        const qint64 embd = intKey("embedding_length");
        if (m.shape.headDim == 0 && heads > 0) m.shape.headDim = embd / heads;
        QHash<QString, quint64> bytesByType;
        for (const auto& t : f->tensors()) bytesByType[QString::fromLatin1(bonsai::tensor_type_name(t.type))] += t.nbytes;
        quint64 best = 0;
        for (auto it = bytesByType.cbegin(); it != bytesByType.cend(); ++it)
            if (it.value() > best) {
                best = it.value();
                m.tensorType = it.key();
            }
    } catch (const std::exception& e) {
        m.error = QString::fromUtf8(e.what());
    }
    return m;
}

qint64 estimateMemoryBytes(qint64 fileBytes, const ModelShape& s, qint64 context) {
    if (fileBytes <= 0 || s.layers <= 0 || s.kvHeads <= 0 || s.headDim <= 0 || context <= 0) return 0;
    const double kv = 2.0 * double(s.layers) * double(context) * double(s.kvHeads) * double(s.headDim) * 2.0;
    return qint64((double(fileBytes) + kv) * 1.1);
}

qint64 physicalMemoryBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? qint64(pages) * qint64(page) : 0;
}

QString formatBytes(qint64 bytes) {
    if (bytes <= 0) return QStringLiteral("?");
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(v, 0, 'f', u == 0 ? 0 : (v < 10 ? 2 : 1)).arg(QLatin1String(units[u]));
}

}  // namespace bonsai::ui
