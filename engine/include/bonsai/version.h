#pragma once
namespace bonsai {
// The engine's version string ("MAJOR.MINOR.PATCH"), the same as the project's.
const char* engine_version();
}  // namespace bonsai
