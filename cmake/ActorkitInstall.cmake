# Install rules: headers under include/actorkit/{actors,patterns,tests/support},
# the libraries, and a CMake package so that consumers can write
#   find_package(actorkit) + target_link_libraries(app actorkit::actorkit).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS actorkit actorkit_testing EXPORT actorkit-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir actors patterns tests/support)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/actorkit/${dir}
    FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/actorkit)
install(EXPORT actorkit-targets NAMESPACE actorkit::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/actorkit)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/actorkit-config.cmake.in
  ${PROJECT_BINARY_DIR}/actorkit-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/actorkit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/actorkit-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/actorkit-config.cmake
              ${PROJECT_BINARY_DIR}/actorkit-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/actorkit)
