// A parsed plan record and the checked reads of its fields, on which the
// typed record views of protocol.h (generated) are built.
#pragma once
#include <stdint.h>

struct Field {
  const char *s;  // NUL-terminated copy
  uint32_t len;
};

struct Record {
  uint32_t tag;
  uint32_t ref;
  uint32_t count;
  const Field *f;
};

// Each read checks the index and fails naming the record (by its tag name,
// with its ref) when the record is malformed.
const char *fstr(const Record &r, uint32_t i);
const Field &ffield(const Record &r, uint32_t i);
uint64_t fu64(const Record &r, uint32_t i);
int64_t fi64(const Record &r, uint32_t i);
// Fields [first, first + n) as a NULL-terminated vector for execve, with
// `spare` more NULL slots before the terminator for the caller to fill.
char **fstrv(const Record &r, uint32_t first, uint32_t n, uint32_t spare = 0);
// Fails unless `r` has tag `tag` and that tag's shape (protocol.h); an
// unknown tag fails too.
void check_record(const Record &r, uint32_t tag);

// A list field: fields [first, first + n) of its record.
struct FieldList {
  const Record *r;
  uint32_t first;
  uint32_t n;
  const char *str(uint32_t i) const { return fstr(*r, first + i); }
  uint64_t u64(uint32_t i) const { return fu64(*r, first + i); }
  char **vec(uint32_t spare = 0) const { return fstrv(*r, first, n, spare); }
};
