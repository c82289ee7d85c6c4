# What `cmake --install` puts under the prefix, and the Debian packages
# `make package` builds from it (CPack).
#
#   bin/gcstream, bin/gcstream-emulator                      component runtime
#   lib/systemd/system/gcstream.service                      component runtime
#   share/doc/gcstream/gcstream.json.example, gcstream.env.example
#   include/gcstream/{messages,runtime,actors,host,emulator}/*.hpp   dev
#   lib/libgcstream.a, lib/libgcstream_emulator.a                    dev
#   lib/cmake/gcstream/gcstreamConfig.cmake (+ Version, Targets, FindCAF.cmake)
#
# A host project:
#   find_package(gcstream 0.2 REQUIRED)
#   target_link_libraries(app PRIVATE gcstream::gcstream)   # + gcstream::emulator

include(CMakePackageConfigHelpers)

set(GCSTREAM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gcstream)

install(TARGETS gcstream-program gcstream-emulator
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS gcstream gcstream_emulator EXPORT gcstreamTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)

# The public headers keep the source tree's layout, so that a host includes
# "host/runtime.hpp" as the examples do. Left out: what only the library's
# own sources include (message_pool.hpp needs websocketpp; demo.hpp is the
# program's), and the emulator's internals.
foreach(dir messages runtime actors actors/sinks host)
  file(GLOB _headers ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*.hpp)
  list(FILTER _headers EXCLUDE REGEX "/(message_pool|demo)\\.hpp$")
  install(FILES ${_headers}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gcstream/${dir} COMPONENT dev)
endforeach()
install(FILES emulator/config.hpp emulator/server.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gcstream/emulator COMPONENT dev)

install(EXPORT gcstreamTargets NAMESPACE gcstream::
  DESTINATION ${GCSTREAM_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/gcstreamConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/gcstreamConfig.cmake
  INSTALL_DESTINATION ${GCSTREAM_CMAKE_DIR})
# 0.x: a minor version may change the API, so 0.2 is what 0.2.* satisfies.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/gcstreamConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gcstreamConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/gcstreamConfigVersion.cmake
              cmake/FindCAF.cmake
  DESTINATION ${GCSTREAM_CMAKE_DIR} COMPONENT dev)

# The service: the unit names the program where this prefix puts it, which
# is known only at install time (CPack installs with prefix /usr).
install(CODE "
  set(_bindir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  file(READ \"${CMAKE_CURRENT_SOURCE_DIR}/deploy/systemd/gcstream.service.in\" _unit)
  string(REPLACE \"@BINDIR@\" \"\${_bindir}\" _unit \"\${_unit}\")
  set(_dest \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  file(MAKE_DIRECTORY \"\${_dest}\")
  file(WRITE \"\${_dest}/gcstream.service\" \"\${_unit}\")
  message(STATUS \"Installing: \${_dest}/gcstream.service\")
" COMPONENT runtime)
install(FILES README.md deploy/gcstream.json.example deploy/gcstream.env.example
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(DIRECTORY deploy/grafana deploy/prometheus
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime
  PATTERN "*.test.yml" EXCLUDE)

# -- make package: two .deb files --------------------------------------------
# gcstream: the programs, the unit, the examples, a system user (postinst);
#   its library dependencies come from dpkg-shlibdeps.
# gcstream-dev: headers, static libraries, the CMake package; it depends on
#   the -dev packages a host needs to link them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gcstream)
set(CPACK_PACKAGE_VENDOR "gcstream")
set(CPACK_PACKAGE_CONTACT "gcstream maintainers <gcstream@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Genesys Cloud Notification API client for many tenants, with an emulator")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME gcstream)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "ca-certificates, passwd")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "Genesys Cloud Notification API client (programs and service)
 gcstream keeps Notification API streams alive for many tenants in one
 process and hands every event to its sinks once and in order. This package
 has the gcstream program, the gcstream-emulator, a systemd unit and
 example configuration, Grafana dashboard and Prometheus alert rules.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME gcstream-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libcaf-dev (>= 0.17), libcurl4-openssl-dev, libsqlite3-dev, libssl-dev, nlohmann-json3-dev, libsimdjson-dev, cmake (>= 3.18)")
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "Genesys Cloud Notification API client (C++ library, CMake package)
 Headers, static libraries and the CMake package of gcstream: a host
 project writes find_package(gcstream 0.2 REQUIRED) and links
 gcstream::gcstream (and gcstream::emulator for its tests).")
include(CPack)
