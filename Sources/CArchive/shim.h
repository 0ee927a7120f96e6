// libarchive (Debian's libarchive-dev): tar + gzip for `wasmaot image build`.
#include <archive.h>
#include <archive_entry.h>
