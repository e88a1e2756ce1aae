#pragma once
// Splits a text into overlapping chunks for retrieval. Boundaries are chosen in this order of preference:
// paragraph breaks (blank lines), sentence ends (. ! ? followed by space), word breaks (whitespace), and
// only for a single over-long word a UTF-8 character boundary. Chunks are packed up to `target` bytes;
// each chunk after the first starts with the trailing pieces of the previous chunk totalling at most
// `overlap` bytes, so a fact that straddles a boundary is found whole in one of them.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bonsai::storage {

struct ChunkOptions {
    size_t target = 800;   // maximum chunk size in bytes (a chunk is never longer)
    size_t overlap = 150;  // maximum bytes repeated from the previous chunk
};

struct TextChunk {
    size_t offset = 0;     // where `text` starts in the input
    std::string text;      // input.substr(offset, text.size()); surrounding whitespace trimmed
};

// Empty or all-whitespace text gives no chunks. Throws nothing; target is clamped to at least 16 bytes
// and overlap to at most target / 2.
std::vector<TextChunk> split_into_chunks(std::string_view text, const ChunkOptions& options = {});

}  // namespace bonsai::storage
