// bonsai-cli dequant MODEL TENSOR --out FILE: one tensor of a GGUF file dequantized with the reference
// code, written as raw little-endian float32 (ne0 fastest), for comparing against other tools.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "command.h"

namespace {

int run_dequant(bonsai::cli::Args& args) {
    const auto out = args.value({"--out", "-o"});
    const auto pos = args.positionals();
    if (pos.size() != 2) throw bonsai::cli::UsageError("expected MODEL and TENSOR");
    if (!out) throw bonsai::cli::UsageError("--out FILE is required");
    const auto f = bonsai::gguf::GgufFile::open(pos[0]);
    const auto* t = f->tensor(pos[1]);
    if (!t) {
        throw bonsai::Error(pos[0] + ": no tensor named '" + pos[1] + "' (the file has " + std::to_string(f->tensors().size()) +
                            " tensors; see 'bonsai-cli inspect')");
    }
    std::vector<float> values(static_cast<size_t>(t->n_elements()));
    bonsai::dequantize(t->type, t->data, values.data(), t->n_elements());
    std::FILE* fp = std::fopen(out->c_str(), "wb");
    if (!fp) throw bonsai::Error("cannot create '" + *out + "'");
    const bool ok = std::fwrite(values.data(), sizeof(float), values.size(), fp) == values.size();
    if (std::fclose(fp) != 0 || !ok) throw bonsai::Error("cannot write '" + *out + "'");
    std::cout << "wrote " << values.size() << " float32 values of " << t->name << " (" << bonsai::tensor_type_name(t->type)
              << ") to " << *out << "\n";
    return 0;
}

const bonsai::cli::Registration reg{"dequant", "MODEL TENSOR --out FILE  write one tensor as raw float32", run_dequant};

}  // namespace
