#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

static uint32_t take_u32(const uint8_t *&p, const uint8_t *end) {
  if (end - p < 4) fail(EINVAL, "malformed plan");
  uint32_t v;
  memcpy(&v, p, 4);
  p += 4;
  return v;
}

Plan parse_plan(const uint8_t *buf, uint32_t len) {
  const uint8_t *p = buf, *end = buf + len;
  size_t cap = 64, n = 0;
  Record *recs = static_cast<Record *>(malloc(cap * sizeof(Record)));
  while (p < end) {
    if (n == cap) recs = static_cast<Record *>(realloc(recs, (cap *= 2) * sizeof(Record)));
    if (!recs) fail(ENOMEM, "plan");
    Record &r = recs[n++];
    r.tag = take_u32(p, end);
    r.ref = take_u32(p, end);
    r.count = take_u32(p, end);
    if (r.count > 1u << 20) fail(EINVAL, "malformed plan");
    Field *f = static_cast<Field *>(malloc((r.count ? r.count : 1) * sizeof(Field)));
    if (!f) fail(ENOMEM, "plan");
    for (uint32_t i = 0; i < r.count; i++) {
      uint32_t flen = take_u32(p, end);
      if (static_cast<size_t>(end - p) < flen) fail(EINVAL, "malformed plan");
      char *s = static_cast<char *>(malloc(flen + 1));
      if (!s) fail(ENOMEM, "plan");
      memcpy(s, p, flen);
      s[flen] = 0;
      f[i] = {s, flen};
      p += flen;
    }
    r.f = f;
    check_record(r, r.tag);
  }
  return Plan{recs, n};
}

// The record's name in errors: its tag name, or its number when unknown.
static void fail_record(const Record &r, const char *what) __attribute__((noreturn));
static void fail_record(const Record &r, const char *what) {
  g_ref = r.ref;
  const proto::RecordShape *s = proto::shape_of(r.tag);
  if (s) fail(EINVAL, "%s plan record %s", what, s->name);
  fail(EINVAL, "%s plan record %u", what, r.tag);
}

void check_record(const Record &r, uint32_t tag) {
  const proto::RecordShape *s = proto::shape_of(r.tag);
  // A tag this init does not know is refused, never skipped: it would be
  // an instruction silently not carried out.
  if (!s) {
    g_ref = r.ref;
    fail(EINVAL, "unknown plan record tag %u", r.tag);
  }
  if (r.tag != tag) fail_record(r, "unexpected");
  if (r.count < s->scalars) fail_record(r, "malformed");
  uint32_t at = s->scalars;
  for (uint32_t k = 0; k < s->counted; k++) {
    if (at >= r.count) fail_record(r, "malformed");
    uint64_t n = fu64(r, at++);
    if (n > r.count - at) fail_record(r, "malformed");
    at += static_cast<uint32_t>(n);
  }
  if (!s->tail && at != r.count) fail_record(r, "malformed");
}

const Field &ffield(const Record &r, uint32_t i) {
  if (i >= r.count) fail_record(r, "malformed");
  return r.f[i];
}

const char *fstr(const Record &r, uint32_t i) { return ffield(r, i).s; }

char **fstrv(const Record &r, uint32_t first, uint32_t n, uint32_t spare) {
  if (first > r.count || n > r.count - first) fail_record(r, "malformed");
  char **v = static_cast<char **>(calloc(n + spare + 1, sizeof(char *)));
  if (!v) fail(ENOMEM, "allocate an argument vector");
  for (uint32_t i = 0; i < n; i++) v[i] = const_cast<char *>(r.f[first + i].s);
  return v;
}

uint64_t fu64(const Record &r, uint32_t i) {
  const char *s = fstr(r, i);
  char *e;
  errno = 0;
  unsigned long long v = strtoull(s, &e, 10);
  if (errno || *e || !*s) fail_record(r, "malformed number in");
  return v;
}

int64_t fi64(const Record &r, uint32_t i) {
  const char *s = fstr(r, i);
  char *e;
  errno = 0;
  long long v = strtoll(s, &e, 10);
  if (errno || *e || !*s) fail_record(r, "malformed number in");
  return v;
}
