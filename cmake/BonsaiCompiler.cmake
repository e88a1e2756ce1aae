# Compiler set-up shared by every target of ours: ccache, warnings, sanitizers.
find_program(BONSAI_CCACHE ccache)
if(BONSAI_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER "${BONSAI_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${BONSAI_CCACHE}")
endif()

if(BONSAI_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Applied per target (never to system headers or generated moc files' includes).
function(bonsai_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  if(BONSAI_WERROR)
    # GCC's flow-sensitive warnings change with the optimisation level and give false positives at
    # -O3 (std::variant, std::optional); they stay visible but do not fail the build.
    target_compile_options(${target} PRIVATE -Werror -Wno-error=maybe-uninitialized -Wno-error=stringop-overflow
                                             -Wno-error=array-bounds -Wno-error=restrict)
  endif()
endfunction()
