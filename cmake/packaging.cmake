# What `cmake --install` puts where, and the Debian package `cpack -G DEB` builds
# from it (scripts/check-package.sh builds and checks it).
include(GNUInstallDirs)

# The man page, the shell completions and the example config are written by the
# built binary from its own definitions (`glacier-backup man`, `completion SHELL`,
# `example-config`), so they always match it.
set(gb_generated ${CMAKE_BINARY_DIR}/generated)
set(gb_generated_files "")
function(gb_generate output)
  list(JOIN ARGN "," args)  # a list would be split into separate arguments
  add_custom_command(
    OUTPUT ${gb_generated}/${output}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${gb_generated}
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:glacier-backup> "-DARGS=${args}"
            -DOUTPUT=${gb_generated}/${output} -P ${CMAKE_SOURCE_DIR}/cmake/run_to_file.cmake
    DEPENDS glacier-backup ${CMAKE_SOURCE_DIR}/cmake/run_to_file.cmake
    COMMENT "Generating ${output}"
    VERBATIM)
  set(gb_generated_files ${gb_generated_files} ${gb_generated}/${output} PARENT_SCOPE)
endfunction()
gb_generate(glacier-backup.1 man)
gb_generate(glacier-backup.bash completion bash)
gb_generate(_glacier-backup completion zsh)
gb_generate(glacier-backup.fish completion fish)
gb_generate(config.example.toml example-config)
add_custom_target(gb_docs ALL DEPENDS ${gb_generated_files})

install(TARGETS glacier-backup RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${gb_generated}/glacier-backup.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${gb_generated}/glacier-backup.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME glacier-backup)
install(FILES ${gb_generated}/_glacier-backup
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${gb_generated}/glacier-backup.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
# User units: `systemctl --user enable --now glacier-backup.timer` (see the README).
# (ExecStart names the binary without a directory: systemd finds it in /usr/local/bin or /usr/bin.)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/glacier-backup.service
              ${CMAKE_SOURCE_DIR}/contrib/glacier-backup.timer
        DESTINATION lib/systemd/user)
install(FILES ${gb_generated}/config.example.toml ${CMAKE_SOURCE_DIR}/contrib/crontab.example
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Reading archives without glacier-backup (disaster recovery on any machine).
install(PROGRAMS ${CMAKE_SOURCE_DIR}/contrib/restore-set.py DESTINATION ${CMAKE_INSTALL_DOCDIR}/contrib)

set(CPACK_PACKAGE_NAME glacier-backup)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "encrypted full and incremental backups for cold cloud storage")
set(CPACK_PACKAGE_DESCRIPTION
    "glacier-backup backs up local files as encrypted, signed full and incremental archives, "
    "keeps them in a local cache and uploads complete sets to Amazon S3 (DEEP_ARCHIVE or "
    "GLACIER storage classes), an S3 Glacier vault or a directory, under a size cap.")
set(GB_PACKAGE_MAINTAINER "glacier-backup maintainers <maintainers@glacier-backup.invalid>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT ${GB_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # glacier-backup_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the libraries the binary links
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
include(CPack)
