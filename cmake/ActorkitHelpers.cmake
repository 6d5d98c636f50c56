# Helpers shared by every actorkit target: warnings as errors, sanitizers and
# one function per kind of target.

function(actorkit_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(ACTORKIT_SANITIZE)
    target_compile_options(${target} PUBLIC
      -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

# actorkit_add_demo(name) builds demos/<name>.cpp into actorkit_<name>.
function(actorkit_add_demo name)
  add_executable(actorkit_${name} ${name}.cpp)
  target_link_libraries(actorkit_${name} PRIVATE actorkit::actorkit actorkit::testing)
  actorkit_target_defaults(actorkit_${name})
endfunction()

# actorkit_add_bench(name) builds bench/<name>.cpp into <name>.
function(actorkit_add_bench name)
  add_executable(${name} ${name}.cpp)
  target_link_libraries(${name} PRIVATE actorkit::actorkit actorkit::testing
                                        benchmark::benchmark)
  actorkit_target_defaults(${name})
endfunction()
