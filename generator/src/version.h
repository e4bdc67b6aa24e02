/* version.h: pcgen's version, for --version and the tools it names (the SBOM's creator). */
#ifndef PCGEN_VERSION_H
#define PCGEN_VERSION_H

#define PCGEN_VERSION "0.1.0"

#endif
