# Install layout and the Debian package (cpack -G DEB in the build folder). Included from the
# top-level CMakeLists.txt; the binaries' own install() lines are in app/*/CMakeLists.txt.
#
#   bin/quantscope, bin/quantscope-cli
#   lib/quantscope/libqs_sentencepiece_shim.so     found beside the executable at run time
#                                                  (core/tokenizer/sentencepiece_library.cpp)
#   share/applications/quantscope.desktop
#   share/icons/hicolor/scalable/apps/quantscope.svg
#   share/mime/packages/quantscope.xml             application/x-quantscope-session
#   share/quantscope/recipes/*.yaml                the default recipes
#   share/man/man1/quantscope{,-cli}.1.gz
#   share/doc/quantscope/copyright, changelog.gz, docs/ (docs/*.md and their images)
#
# Nothing installed is looked up in the source tree: the binaries need only the shim and the
# system's libraries (the datasets under QS_SHARED are optional; see installer/man/quantscope.1).

# --- core: the dlopen'ed SentencePiece shim (private, so not in the linker's path) -----------
install(TARGETS qs_sentencepiece_shim LIBRARY DESTINATION lib/quantscope)

set(QS_PACKAGE_MAINTAINER "QuantScope maintainers <quantscope@users.noreply.github.com>"
    CACHE STRING "Maintainer field of the Debian package")

# --- data ---------------------------------------------------------------------------------
install(DIRECTORY ${CMAKE_SOURCE_DIR}/resources/recipes/ DESTINATION share/quantscope/recipes
        FILES_MATCHING PATTERN "*.yaml")
install(FILES ${CMAKE_SOURCE_DIR}/installer/copyright ${CMAKE_SOURCE_DIR}/README.md
  DESTINATION share/doc/quantscope)
# The user documentation the man pages point to (docs/*.md link their images as img/*.png).
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION share/doc/quantscope/docs
        FILES_MATCHING PATTERN "*.md" PATTERN "*.png")
if(QS_BUILD_GUI)
  install(FILES ${CMAKE_SOURCE_DIR}/resources/quantscope.desktop DESTINATION share/applications)
  install(FILES ${CMAKE_SOURCE_DIR}/resources/icons/quantscope.svg
          DESTINATION share/icons/hicolor/scalable/apps)
  install(FILES ${CMAKE_SOURCE_DIR}/resources/quantscope-mime.xml DESTINATION share/mime/packages
          RENAME quantscope.xml)
endif()

# --- man pages and changelog, gzipped at build time (Debian policy 12.1, 12.7: gzip -9n) -----
set(QS_MAN_PAGES quantscope-cli.1)
if(QS_BUILD_GUI)
  list(APPEND QS_MAN_PAGES quantscope.1)
endif()
find_program(QS_GZIP gzip REQUIRED)
set(QS_MAN_GZ "")
foreach(page ${QS_MAN_PAGES})
  set(src ${CMAKE_SOURCE_DIR}/installer/man/${page})
  set(out ${CMAKE_BINARY_DIR}/man/${page})
  add_custom_command(OUTPUT ${out}.gz
    COMMAND ${CMAKE_COMMAND} -E copy ${src} ${out}
    # -n: no name or time stamp in the header, so the package is reproducible.
    COMMAND ${QS_GZIP} -9 -n -f ${out}
    DEPENDS ${src}
    COMMENT "Compressing man page ${page}" VERBATIM)
  list(APPEND QS_MAN_GZ ${out}.gz)
endforeach()
install(FILES ${QS_MAN_GZ} DESTINATION share/man/man1)

# A native package's changelog.gz (Debian policy 12.7): one entry for this version, dated the
# day of configuring (or $SOURCE_DATE_EPOCH, which string(TIMESTAMP) honours); file(CONFIGURE)
# leaves an unchanged file alone, so a re-configure the same day rebuilds nothing.
string(TIMESTAMP QS_CHANGELOG_DATE "%a, %d %b %Y 00:00:00 +0000" UTC)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog CONTENT
  "quantscope (${PROJECT_VERSION}) bookworm; urgency=medium\n\n\
  * QuantScope ${PROJECT_VERSION}, packaged with CPack; the changes are in the\n\
    project's version control history.\n\n\
 -- ${QS_PACKAGE_MAINTAINER}  ${QS_CHANGELOG_DATE}\n")
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  COMMAND ${QS_GZIP} -9 -n -f -k ${CMAKE_BINARY_DIR}/packaging/changelog
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog
  COMMENT "Compressing the package changelog" VERBATIM)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz DESTINATION share/doc/quantscope)
add_custom_target(qs_package_docs ALL DEPENDS ${QS_MAN_GZ} ${CMAKE_BINARY_DIR}/packaging/changelog.gz)

# --- CPack: quantscope_<version>_amd64.deb ----------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME quantscope)
set(CPACK_PACKAGE_VENDOR QuantScope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${QS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # quantscope_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_NAME quantscope)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${QS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Lines of at most 79 characters (Debian policy 5.6.13; lintian checks it).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "workbench for post-training quantization of LLMs
QuantScope opens Hugging Face Llama-family checkpoints and shows, layer by
layer, what quantization does to them: weight and activation histograms,
channel outliers, kurtosis, GPTQ column errors, the error across depth and
perplexity against size (Pareto frontier). It quantizes with RTN, GPTQ, AWQ
and SmoothQuant to INT, FP8 and MX formats, records every experiment in an
HDF5 session file, and exports GPTQ, AWQ, compressed-tensors, MX and GGUF
checkpoints.

This package holds the desktop application (quantscope), the command-line
tool (quantscope-cli), default recipes and man pages. It runs on the CPU.")
# Depends: what dpkg-shlibdeps finds in the linked libraries (libtorch, Qt 6, QCustomPlot,
# HDF5, yaml-cpp, SentencePiece via the shim, ...), plus what is only loaded at run time:
# libtorch links the libblas.so.3 alternative, which without OpenBLAS is the reference BLAS
# (about 6 GFLOP/s: minutes per GPTQ layer); figures default to DejaVu Sans, and a minimal
# system has no font at all for Qt to draw text with.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core, libopenblas0-openmp")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "shared-mime-info")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "hdf5-tools")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# CPack adds postinst/postrm scripts that run ldconfig because of lib/quantscope/*.so; harmless
# (the shim is dlopen'ed by path, not found through ld.so), lintian warns about it.
include(CPack)
