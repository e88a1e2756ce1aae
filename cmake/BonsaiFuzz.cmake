# BONSAI_FUZZ: build the libFuzzer targets of tests/fuzz (clang only).
#
# Everything compiled in such a build gets -fsanitize=fuzzer-no-link,address,undefined (coverage
# instrumentation plus ASan/UBSan, UB fatal); only the fuzz_<name> executables link libFuzzer's main.
# Build just the fuzzers (and the libraries they need) with `cmake --build <dir> --target bonsai-fuzzers`;
# scripts/run-sanitizers.sh does this with -DBONSAI_BUILD_UI=OFF -DBONSAI_WERROR=OFF (clang's warning set
# differs from gcc's, which is the compiler the -Werror policy is kept for).
option(BONSAI_FUZZ "Build libFuzzer targets (clang; implies ASan + UBSan)" OFF)

if(BONSAI_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BONSAI_FUZZ=ON needs clang (configure with -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
