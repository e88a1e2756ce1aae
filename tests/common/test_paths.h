#pragma once
// Paths the build gives every test (see tests/CMakeLists.txt).
#include <string>

namespace bonsai::test {
inline std::string fixtures(const std::string& rel) { return std::string(BONSAI_FIXTURES_DIR) + "/" + rel; }
inline std::string source(const std::string& rel) { return std::string(BONSAI_SOURCE_DIR) + "/" + rel; }
inline std::string binary(const std::string& rel) { return std::string(BONSAI_BINARY_DIR) + "/" + rel; }
inline std::string cli() { return BONSAI_CLI_PATH; }
}  // namespace bonsai::test
