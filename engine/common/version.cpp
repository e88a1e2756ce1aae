#include "bonsai/version.h"

namespace bonsai {
const char* engine_version() { return BONSAI_VERSION; }
}  // namespace bonsai
