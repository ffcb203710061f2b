/* licensegate._accel: the hot passes of a scan, compiled.
 *
 * Each function here computes exactly what a pure-Python definition computes (in kb_index.py, knowledge.py,
 * binary.py, scan.py, android/dex.py, ml/sniff.py: those stay the fallback when this module is missing or of another
 * ACCEL_API, and the reference tests/test_accel.py compares it with):
 *
 *   run_items(region, hashes, offsets, bitmap, blob, mask, min_len)
 *       ItemIndex.lookup(ItemIndex.runs_in(region)) as (item bytes, item id) pairs: every maximal run of printable
 *       ASCII (0x20-0x7e) of min_len bytes or more that is an item of the index.
 *   lookup(candidates, hashes, offsets, bitmap, blob, mask)
 *       ItemIndex.lookup(candidates) as (candidate, item id) pairs; a str candidate stands for its latin-1 bytes
 *       (ItemIndex.lookup_latin1).
 *   cxx_scopes(text)
 *       knowledge.cxx_scopes over "\n" + "\n".join(symbols), for ASCII text.
 *   dex_code_items(data, class_defs_off, class_defs_size)
 *       android/dex.py's _DexReader.code_items: code_off -> [(class def, method idx)] of every class, or None where
 *       the class data is malformed (the Python walk then raises its own error).
 *   byte_counts(data)
 *       the count of each byte value 0-255 (ml/sniff.py's entropy, Counter(data) in Python).
 *   symbol_names(table, strtab, entsize, little, keep_at, keep, defined_at, seen, most)
 *       binary.symbol_names: the names of an ELF or Mach-O symbol table's kept entries; None once their lengths
 *       add up to more than `most` bytes (the caller reports the table; the bytes read stay under most + strtab).
 *   copyright_texts(region, tries, most)
 *       scan._copyright_texts: the copyright lines among a binary's strings, as bytes.
 *   so_spans(region)
 *       binary._so_spans: where the library file names ("libfoo.so.1") of a string section are.
 *
 * Every input is hostile: buffer sizes are checked against the real Py_buffer lengths, an item's offsets are
 * checked against the blob before its bytes are read, and all arithmetic is on Py_ssize_t / uint64 values bounded
 * by those lengths. Loads of 32-bit values go through memcpy (no alignment assumption).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Bumped with every change to what the functions here take or answer; kb_index.py loads this module only when its
 * own ACCEL_API is the same, so a compiled module left over from an older checkout (an editable install not
 * rebuilt) is never called with arguments it does not know, nor trusted for answers the Python path changed. */
#define ACCEL_API 3

#include <stdint.h>
#include <string.h>

/* ---- CRC-32 exactly as zlib.crc32 (reflected polynomial 0xEDB88320, initial and final value ~0), slicing-by-8 */

static uint32_t crc_table[8][256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

static uint32_t
crc32_of(const unsigned char *p, Py_ssize_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
            crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
            crc_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len-- > 0)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- The item index (kb_index.ItemIndex's arrays) */

typedef struct {
    Py_buffer hashes, offsets, bitmap, blob;
    Py_ssize_t n;   /* items: hashes holds n values, offsets n + 1 */
    uint64_t mask;  /* bitmap slot of a hash: hash & mask, checked below 8 * bitmap bytes */
} Index;

static uint32_t
u32_at(const Py_buffer *b, Py_ssize_t i)
{
    uint32_t v;
    memcpy(&v, (const char *)b->buf + 4 * i, 4);
    return v;
}

static void
index_release(Index *ix)
{
    PyBuffer_Release(&ix->hashes);
    PyBuffer_Release(&ix->offsets);
    PyBuffer_Release(&ix->bitmap);
    PyBuffer_Release(&ix->blob);
}

/* Take the buffers and check what the lookups rely on; on failure nothing is held and an exception is set. */
static int
index_open(Index *ix, PyObject *hashes, PyObject *offsets, PyObject *bitmap, PyObject *blob, unsigned long long mask)
{
    memset(ix, 0, sizeof *ix);
    if (PyObject_GetBuffer(hashes, &ix->hashes, PyBUF_SIMPLE) < 0)
        return -1;
    if (PyObject_GetBuffer(offsets, &ix->offsets, PyBUF_SIMPLE) < 0)
        goto fail;
    if (PyObject_GetBuffer(bitmap, &ix->bitmap, PyBUF_SIMPLE) < 0)
        goto fail;
    if (PyObject_GetBuffer(blob, &ix->blob, PyBUF_SIMPLE) < 0)
        goto fail;
    if (ix->hashes.len % 4 || ix->offsets.len != ix->hashes.len + 4) {
        PyErr_SetString(PyExc_ValueError, "index arrays of inconsistent sizes");
        goto fail;
    }
    /* mask < 8 * bitmap bytes, so that bit (hash & mask) is inside the bitmap */
    if ((uint64_t)ix->bitmap.len > (UINT64_MAX >> 4) || mask >= 8 * (uint64_t)ix->bitmap.len) {
        PyErr_SetString(PyExc_ValueError, "bitmap smaller than its mask");
        goto fail;
    }
    ix->n = ix->hashes.len / 4;
    ix->mask = mask;
    return 0;
fail:
    index_release(ix);
    return -1;
}

/* The item id of the bytes p[0:len] with CRC-32 h, or -1: the bitmap, a binary search for the first equal hash,
 * then every item with that hash compared byte for byte (CRC-32 collisions), as ItemIndex._position does. */
static Py_ssize_t
index_find(const Index *ix, const unsigned char *p, Py_ssize_t len, uint32_t h)
{
    uint64_t slot = h & ix->mask;
    if (!((((const unsigned char *)ix->bitmap.buf)[slot >> 3] >> (slot & 7)) & 1))
        return -1;
    Py_ssize_t lo = 0, hi = ix->n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (u32_at(&ix->hashes, mid) < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (Py_ssize_t i = lo; i < ix->n && u32_at(&ix->hashes, i) == h; i++) {
        uint32_t start = u32_at(&ix->offsets, i), end = u32_at(&ix->offsets, i + 1);
        if (start > end || end > (uint64_t)ix->blob.len)
            continue;  /* a damaged index: this item cannot be read, so it equals nothing */
        if ((Py_ssize_t)(end - start) == len && memcmp((const char *)ix->blob.buf + start, p, (size_t)len) == 0)
            return i;
    }
    return -1;
}

/* A growable array of (start, length, item id) hits, filled without the GIL. */
typedef struct {
    Py_ssize_t *v;  /* 3 values per hit */
    Py_ssize_t len, cap;
} Hits;

static int
hits_add(Hits *h, Py_ssize_t start, Py_ssize_t len, Py_ssize_t id)
{
    if (h->len + 3 > h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 3 * 64;
        if (cap > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(Py_ssize_t))
            return -1;
        Py_ssize_t *v = realloc(h->v, (size_t)cap * sizeof(Py_ssize_t));
        if (v == NULL)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->len++] = start;
    h->v[h->len++] = len;
    h->v[h->len++] = id;
    return 0;
}

static inline int
printable(unsigned char c)
{
    return (unsigned char)(c - 0x20) < 0x5F;
}

/* Whether the 8 bytes at p are all printable: no byte below 0x20 and none above 0x7e (the two exact "has a byte
 * less than / more than" word tests; strings are mostly long runs, which this walks 8 bytes a step). */
static inline int
all_printable(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t below = (x - ones * 0x20) & ~x & highs;
    uint64_t above = ((x + ones * (127 - 0x7e)) | x) & highs;
    return (below | above) == 0;
}

/* Regions this large are scanned with the GIL released (the sha256 thread runs meanwhile); below, the release
 * costs more than it gives. */
#define NOGIL_BYTES (1 << 16)

/* One hit for the run data[start:end] if it is long enough and an item. */
static inline int
run_found(const Index *ix, const unsigned char *data, Py_ssize_t start, Py_ssize_t end, Py_ssize_t min_len,
          Hits *hits)
{
    Py_ssize_t len = end - start;
    if (len < min_len)
        return 0;
    Py_ssize_t id = index_find(ix, data + start, len, crc32_of(data + start, len));
    return id >= 0 ? hits_add(hits, start, len, id) : 0;
}

/* The end of the printable run going on at data[i] (i itself when data[i] is not printable), 8 bytes a step. */
static inline Py_ssize_t
run_end(const unsigned char *data, Py_ssize_t i, Py_ssize_t n)
{
    while (n - i >= 8 && all_printable(data + i))
        i += 8;
    while (i < n && printable(data[i]))
        i++;
    return i;
}

/* The maximal printable runs of data[from:n], byte by byte: for short items, and the tail after the words. */
static int
scan_runs_bytewise(const Index *ix, const unsigned char *data, Py_ssize_t from, Py_ssize_t n, Py_ssize_t min_len,
                   Hits *hits)
{
    Py_ssize_t i = from;
    while (i < n) {
        while (i < n && !printable(data[i]))
            i++;
        Py_ssize_t start = i;
        i = run_end(data, i, n);
        if (run_found(ix, data, start, i, min_len, hits) < 0)
            return -1;
    }
    return 0;
}

/* The high bit of each byte of the 8 at p that is printable (0x20-0x7e), exactly per byte: the low 7 bits plus
 * 0x60 carry into the high bit from 0x20 up, plus 0x01 only at 0x7f, and no sum leaves its byte. */
static inline uint64_t
printable_mask(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u, lows = 0x7f7f7f7f7f7f7f7fu;
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);  /* byte k of p at bits 8k..8k+7, as the halves and the shift below expect */
#endif
    uint64_t low = x & lows;
    return ~x & highs & (low + ones * 0x60) & ~(low + ones);
}

#define HALF_LOW 0x0000000080808080u
#define HALF_HIGH 0x8080808000000000u

/* The maximal printable runs of data[0:n] that are items, in order. Every run of 7 or more bytes holds 4 printable
 * bytes at word offsets 0-3 or 4-7 of some 8-byte word (a run of 7 starting at offset k covers 4-7 for k = 1..4,
 * 0-3 of this word for k = 0 or of the next for k = 5..7), so a word without such a half is skipped whole; from a
 * half the run is extended back (never before `done`, the end of the run found last) and forward. The binary data
 * between strings is mostly not printable, so most words are one mask and a compare. Runs shorter than 7 bytes
 * can be items only when min_len is below 7: then every byte is looked at. */
static int
scan_runs(const Index *ix, const unsigned char *data, Py_ssize_t n, Py_ssize_t min_len, Hits *hits)
{
    if (min_len < 1)
        min_len = 1;
    if (min_len < 7)
        return scan_runs_bytewise(ix, data, 0, n, min_len, hits);
    Py_ssize_t w = 0, done = 0;
    while (n - w >= 8) {
        uint64_t m = printable_mask(data + w);
        if (w < done)  /* bytes before done belong to the run found last (data[done] is not printable) */
            m &= ~(uint64_t)0 << (8 * (done - w));
        Py_ssize_t h;
        if ((m & HALF_LOW) == HALF_LOW)
            h = w;
        else if ((m & HALF_HIGH) == HALF_HIGH)
            h = w + 4;
        else {
            w += 8;
            continue;
        }
        Py_ssize_t start = h, end = run_end(data, h + 4, n);
        while (start > done && printable(data[start - 1]))
            start--;
        if (run_found(ix, data, start, end, min_len, hits) < 0)
            return -1;
        done = end;
        w = end & ~(Py_ssize_t)7;
    }
    /* A run reaching into the last n % 8 bytes that was not found above starts at w - 3 or later (one holding
     * bytes w-4..w-1 held the high half of the last word). */
    Py_ssize_t from = w - 3 > done ? w - 3 : done;
    return scan_runs_bytewise(ix, data, from, n, min_len, hits);
}

static PyObject *
run_items(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *region, *hashes, *offsets, *bitmap, *blob;
    unsigned long long mask;
    Py_ssize_t min_len;
    if (!PyArg_ParseTuple(args, "OOOOOKn:run_items", &region, &hashes, &offsets, &bitmap, &blob, &mask, &min_len))
        return NULL;
    Index ix;
    if (index_open(&ix, hashes, offsets, bitmap, blob, mask) < 0)
        return NULL;
    Py_buffer r;
    if (PyObject_GetBuffer(region, &r, PyBUF_SIMPLE) < 0) {
        index_release(&ix);
        return NULL;
    }
    Hits hits = {NULL, 0, 0};
    int rc;
    if (r.len >= NOGIL_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        rc = scan_runs(&ix, r.buf, r.len, min_len, &hits);
        Py_END_ALLOW_THREADS
    } else {
        rc = scan_runs(&ix, r.buf, r.len, min_len, &hits);
    }
    PyObject *out = NULL;
    if (rc < 0) {
        PyErr_NoMemory();
        goto done;
    }
    out = PyList_New(hits.len / 3);
    if (out == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < hits.len; k += 3) {
        PyObject *pair = Py_BuildValue("(y#n)", (const char *)r.buf + hits.v[k], hits.v[k + 1], hits.v[k + 2]);
        if (pair == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, k / 3, pair);
    }
done:
    free(hits.v);
    PyBuffer_Release(&r);
    index_release(&ix);
    return out;
}

static PyObject *
lookup(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *candidates, *hashes, *offsets, *bitmap, *blob;
    unsigned long long mask;
    if (!PyArg_ParseTuple(args, "OOOOOK:lookup", &candidates, &hashes, &offsets, &bitmap, &blob, &mask))
        return NULL;
    PyObject *seq = PySequence_Fast(candidates, "candidates must be a sequence of bytes or str");
    if (seq == NULL)
        return NULL;
    Index ix;
    if (index_open(&ix, hashes, offsets, bitmap, blob, mask) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    PyObject *out = PyList_New(0);
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t k = 0; out != NULL && k < count; k++) {
        PyObject *s = PySequence_Fast_GET_ITEM(seq, k);
        const unsigned char *p;
        Py_ssize_t len;
        if (PyBytes_Check(s)) {
            p = (const unsigned char *)PyBytes_AS_STRING(s);
            len = PyBytes_GET_SIZE(s);
        } else if (PyUnicode_Check(s)) {
#if PY_VERSION_HEX < 0x030C0000
            if (PyUnicode_READY(s) < 0) {
                Py_CLEAR(out);
                break;
            }
#endif
            /* A str of one byte per character holds its latin-1 encoding; a wider one is outside latin-1, which
             * no item (stored as latin-1 bytes) can equal. */
            if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND)
                continue;
            p = PyUnicode_1BYTE_DATA(s);
            len = PyUnicode_GET_LENGTH(s);
        } else {
            PyErr_SetString(PyExc_TypeError, "candidates must be bytes or str");
            Py_CLEAR(out);
            break;
        }
        Py_ssize_t id = index_find(&ix, p, len, crc32_of(p, len));
        if (id < 0)
            continue;
        PyObject *pair = Py_BuildValue("(On)", s, id);
        if (pair == NULL || PyList_Append(out, pair) < 0)
            Py_CLEAR(out);
        Py_XDECREF(pair);
    }
    index_release(&ix);
    Py_DECREF(seq);
    return out;
}

/* ---- C++ scopes: knowledge._cxx_nested() over ASCII text, with cxx_scopes' own steps after it */

static inline int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* One mangled <source-name> at t[*at] as knowledge._source_name() matches it: a digit d of 1-9, then either a
 * non-digit and d characters in all, or a digit e and 10d+e characters; none of them "\n". On a match, *at moves
 * past it and 1 is returned. */
static int
source_name(const unsigned char *t, Py_ssize_t n, Py_ssize_t *at)
{
    Py_ssize_t q = *at;
    if (q >= n || t[q] < '1' || t[q] > '9')
        return 0;
    Py_ssize_t len = t[q++] - '0';
    if (q < n && is_digit(t[q]))
        len = 10 * len + (t[q++] - '0');
    if (len > n - q)
        return 0;
    const unsigned char *nl = memchr(t + q, '\n', (size_t)len);
    if (nl != NULL)
        return 0;
    *at = q + len;
    return 1;
}

/* The name a group holds once its leading digits (the length, and any digits the name starts with) are gone, as
 * cxx_scopes strips them with [0-9]+. */
static Py_ssize_t
skip_digits(const unsigned char *t, Py_ssize_t from, Py_ssize_t to)
{
    while (from < to && is_digit(t[from]))
        from++;
    return from;
}

static PyObject *
cxx_scopes(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg)) {
        PyErr_SetString(PyExc_TypeError, "cxx_scopes takes an ASCII str");
        return NULL;
    }
    const unsigned char *t = PyUnicode_1BYTE_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    const unsigned char *nl = memchr(t, '\n', (size_t)n);
    while (nl != NULL) {
        Py_ssize_t q = nl - t + 1;
        nl = q < n ? memchr(t + q, '\n', (size_t)(n - q)) : NULL;
        if (n - q < 3 || t[q] != '_' || t[q + 1] != 'Z')
            continue;
        q += 2;
        if (t[q] == 'N') {
            q++;
            while (q < n && (t[q] == 'r' || t[q] == 'V' || t[q] == 'K' || t[q] == 'R' || t[q] == 'O'))
                q++;
        } else if (t[q] == 'T' && n - q >= 3 && (t[q + 1] == 'V' || t[q + 1] == 'I' || t[q + 1] == 'S') &&
                   t[q + 2] == 'N') {
            q += 3;
        } else {
            continue;
        }
        Py_ssize_t a = q;
        if (!source_name(t, n, &q))
            continue;
        Py_ssize_t b = q;
        if (!source_name(t, n, &q))
            continue;
        Py_ssize_t ns = skip_digits(t, a, b), name = skip_digits(t, b, q);
        if (ns == b)
            continue;  /* a namespace of digits only: no name (the regex path skips it too) */
        if (t[ns] == '_' && b - ns > 1 && (t[ns + 1] == '_' || (t[ns + 1] >= 'A' && t[ns + 1] <= 'Z')))
            continue;  /* reserved for the implementation: __cxxabiv1, _GLOBAL__N_1 */
        Py_ssize_t ns_len = b - ns, name_len = q - name;
        PyObject *s = PyUnicode_New(ns_len + 2 + name_len, 127);
        if (s == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        Py_UCS1 *d = PyUnicode_1BYTE_DATA(s);
        memcpy(d, t + ns, (size_t)ns_len);
        d[ns_len] = ':';
        d[ns_len + 1] = ':';
        memcpy(d + ns_len + 2, t + name, (size_t)name_len);
        int rc = PyList_Append(out, s);
        Py_DECREF(s);
        if (rc < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* ---- DEX class data: android/dex.py's _DexReader._code_items_python, every class of a dex in one call.
 *
 * Four ULEB128 counts, the fields skipped, then each method's index difference, access flags and code offset. The
 * reference decodes a value with _uleb128 (at most 5 bytes) and skips fields and access flags byte by byte with no
 * limit; both are mirrored here. Anything the reference would raise on (a class data offset or a value past the
 * end, a 6-byte value, counts that claim more bytes than are left) returns None instead: the caller then runs the
 * reference, which raises its own error, so messages stay exactly its own. Work per class is bounded by the bytes
 * left after its class data offset (each field takes at least 2 bytes, each method 3), and the work of all classes
 * by the file's size: class defs sharing one item claim it again each time. */

/* One ULEB128 at d[*pos] (5 bytes at most: values below 2^35); -1 when it runs past n or is longer. */
static inline int
dex_uleb128(const uint8_t *d, Py_ssize_t n, Py_ssize_t *pos, uint64_t *value)
{
    Py_ssize_t p = *pos;
    uint64_t v = 0;
    for (int k = 0; k < 5 && p < n; k++, p++) {
        v |= (uint64_t)(d[p] & 0x7f) << (7 * k);
        if (d[p] < 0x80) {
            *pos = p + 1;
            *value = v;
            return 0;
        }
    }
    return -1;
}

/* Past one ULEB128 of any length at d[*pos]; -1 when it runs past n. */
static inline int
dex_skip(const uint8_t *d, Py_ssize_t n, Py_ssize_t *pos)
{
    Py_ssize_t p = *pos;
    while (p < n && d[p] & 0x80)
        p++;
    if (p >= n)
        return -1;
    *pos = p + 1;
    return 0;
}

/* Append (class def, method index) to out[code_off]; -1 with an exception set on failure. */
static int
dex_add(PyObject *out, PyObject *klass, uint64_t code_off, uint64_t method_idx)
{
    PyObject *key = PyLong_FromUnsignedLongLong(code_off);
    if (key == NULL)
        return -1;
    PyObject *list = PyDict_GetItemWithError(out, key);
    int rc = -1;
    if (list == NULL) {
        if (PyErr_Occurred() || (list = PyList_New(0)) == NULL)
            goto done;
        rc = PyDict_SetItem(out, key, list);
        Py_DECREF(list);  /* the dict holds it */
        if (rc < 0)
            goto done;
    }
    PyObject *idx = PyLong_FromUnsignedLongLong(method_idx);
    PyObject *pair = idx == NULL ? NULL : PyTuple_Pack(2, klass, idx);
    Py_XDECREF(idx);
    rc = pair == NULL ? -1 : PyList_Append(list, pair);
    Py_XDECREF(pair);
done:
    Py_DECREF(key);
    return rc;
}

/* The methods of class def i's class_data_item at pos into out: 1 done, 0 malformed, -1 exception set. */
static int
dex_class_data(const uint8_t *d, Py_ssize_t n, Py_ssize_t pos, Py_ssize_t i, PyObject *out, uint64_t *left)
{
    uint64_t counts[4];
    for (int k = 0; k < 4; k++)
        if (dex_uleb128(d, n, &pos, &counts[k]) < 0)
            return 0;
    uint64_t n_fields = counts[0] + counts[1], n_methods = counts[2] + counts[3];  /* each below 2^36 */
    uint64_t need = 2 * n_fields + 3 * n_methods;
    if (need > (uint64_t)(n - pos) || need > *left)  /* the class data of all classes fits in the file together */
        return 0;
    *left -= need;
    for (uint64_t k = 0; k < 2 * n_fields; k++)
        if (dex_skip(d, n, &pos) < 0)
            return 0;
    PyObject *klass = NULL;
    for (int list = 2; list < 4; list++) {
        uint64_t method_idx = 0;
        for (uint64_t k = 0; k < counts[list]; k++) {
            uint64_t diff, code_off;
            if (dex_uleb128(d, n, &pos, &diff) < 0 || dex_skip(d, n, &pos) < 0 ||
                dex_uleb128(d, n, &pos, &code_off) < 0) {
                Py_XDECREF(klass);
                return 0;
            }
            if (method_idx > UINT64_MAX - diff) {  /* past any real dex; the reference's ints do not overflow */
                Py_XDECREF(klass);
                return 0;
            }
            method_idx += diff;
            if (code_off == 0)
                continue;
            if (klass == NULL && (klass = PyLong_FromSsize_t(i)) == NULL)
                return -1;
            if (dex_add(out, klass, code_off, method_idx) < 0) {
                Py_DECREF(klass);
                return -1;
            }
        }
    }
    Py_XDECREF(klass);
    return 1;
}

static PyObject *
dex_code_items(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer b;
    Py_ssize_t defs_off, defs_count;
    if (!PyArg_ParseTuple(args, "y*nn:dex_code_items", &b, &defs_off, &defs_count))
        return NULL;
    const uint8_t *d = b.buf;
    Py_ssize_t n = b.len;
    PyObject *out = PyDict_New();
    if (out == NULL)
        goto fail;
    if (defs_count < 0 || (defs_count > 0 && (defs_off < 0 || defs_off > n || defs_count > (n - defs_off) / 32)))
        goto malformed;
    uint64_t left = (uint64_t)n;  /* bytes the class data items can still claim between them */
    for (Py_ssize_t i = 0; i < defs_count; i++) {
        const uint8_t *f = d + defs_off + 32 * i + 24;  /* class_data_off, little-endian (the reader refuses others) */
        uint32_t pos = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
        if (pos == 0)
            continue;
        if ((Py_ssize_t)pos >= n)
            goto malformed;
        int rc = dex_class_data(d, n, (Py_ssize_t)pos, i, out, &left);
        if (rc < 0)
            goto fail;
        if (rc == 0)
            goto malformed;
    }
    PyBuffer_Release(&b);
    return out;
malformed:
    Py_DECREF(out);
    PyBuffer_Release(&b);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&b);
    return NULL;
}

/* ---- byte_counts: how often each byte value occurs (ml/sniff.py's entropy; Counter(data) in Python) ---- */

static PyObject *
byte_counts(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    /* Four tables, one per byte position modulo 4, so consecutive equal bytes do not wait on one counter. */
    Py_ssize_t counts[4][256];
    memset(counts, 0, sizeof counts);
    const unsigned char *p = view.buf;
    Py_ssize_t n = view.len, i = 0;
    for (; i + 4 <= n; i += 4) {
        counts[0][p[i]]++;
        counts[1][p[i + 1]]++;
        counts[2][p[i + 2]]++;
        counts[3][p[i + 3]]++;
    }
    for (; i < n; i++)
        counts[0][p[i]]++;
    PyBuffer_Release(&view);
    PyObject *out = PyList_New(256);
    if (out == NULL)
        return NULL;
    for (int b = 0; b < 256; b++) {
        PyObject *v = PyLong_FromSsize_t(counts[0][b] + counts[1][b] + counts[2][b] + counts[3][b]);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, b, v);
    }
    return out;
}

/* ---- Binary readers' passes, one block: symbol names, copyright lines, library names ------------------------ */

/* Symbol names: binary.symbol_names (ELF .dynsym/.symtab and Mach-O nlist tables). */

/* The unsigned 32-bit value at p in the table's byte order. */
static inline uint32_t
u32_in_order(const unsigned char *p, int little)
{
    if (little)
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

/* symbol_names(table, strtab, entsize, little, keep_at, keep, defined_at, seen): the names (latin-1, up to the
 * first NUL or the end of strtab) at the 32-bit name offset of every whole entsize-byte entry of table whose byte
 * at keep_at maps to 1 in the keep table (256 bytes of 0 or 1) and, when defined_at >= 0, whose 16-bit field at
 * defined_at is not zero; offset 0 and offsets at or past the end of strtab are skipped. With seen a dict, only the
 * names not in it are returned, each once, and each is added to it (value None). */
static PyObject *
symbol_names(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *table, *strtab, *keep, *seen;
    Py_ssize_t entsize, keep_at, defined_at, most;
    int little;
    if (!PyArg_ParseTuple(args, "OOnpnOnOn:symbol_names", &table, &strtab, &entsize, &little, &keep_at, &keep,
                          &defined_at, &seen, &most))
        return NULL;
    if (entsize < 4 || keep_at < 0 || keep_at >= entsize || defined_at < -1 || defined_at > entsize - 2) {
        PyErr_SetString(PyExc_ValueError, "field offsets outside the entry");
        return NULL;
    }
    if (seen != Py_None && !PyDict_Check(seen)) {
        PyErr_SetString(PyExc_TypeError, "seen must be a dict or None");
        return NULL;
    }
    Py_buffer t, s, k;
    if (PyObject_GetBuffer(table, &t, PyBUF_SIMPLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(strtab, &s, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&t);
        return NULL;
    }
    if (PyObject_GetBuffer(keep, &k, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&s);
        PyBuffer_Release(&t);
        return NULL;
    }
    PyObject *out = NULL;
    int flags_only = k.len == 256;
    for (Py_ssize_t b = 0; flags_only && b < 256; b++)
        flags_only = ((const unsigned char *)k.buf)[b] <= 1;
    if (!flags_only) {
        PyErr_SetString(PyExc_ValueError, "keep must be 256 bytes of 0 or 1");
        goto done;
    }
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    const unsigned char *strings = s.buf, *keeps = k.buf;
    Py_ssize_t count = t.len / entsize, total = 0;  /* total <= most + s.len: no overflow */
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *e = (const unsigned char *)t.buf + i * entsize;
        if (!keeps[e[keep_at]] || (defined_at >= 0 && !(e[defined_at] | e[defined_at + 1])))
            continue;
        uint32_t o = u32_in_order(e, little);
        if (o == 0 || (uint64_t)o >= (uint64_t)s.len)
            continue;
        const unsigned char *nul = memchr(strings + o, 0, (size_t)(s.len - o));
        Py_ssize_t len = nul != NULL ? nul - (strings + o) : s.len - o;
        /* Entries pointing into one long run of the string table would each make a long name: stop once the
         * names' bytes pass what the caller allows (binary.symbol_names), before more are read or made. */
        total += len;
        if (total > most) {
            Py_CLEAR(out);
            PyBuffer_Release(&k);
            PyBuffer_Release(&s);
            PyBuffer_Release(&t);
            Py_RETURN_NONE;
        }
        PyObject *name = PyUnicode_DecodeLatin1((const char *)strings + o, len, NULL);
        if (name == NULL)
            goto fail;
        if (seen != Py_None) {
            /* One dict probe: the name is new when setdefault grew the dict. */
            Py_ssize_t before = PyDict_GET_SIZE(seen);
            if (PyDict_SetDefault(seen, name, Py_None) == NULL) {
                Py_DECREF(name);
                goto fail;
            }
            if (PyDict_GET_SIZE(seen) == before) {
                Py_DECREF(name);
                continue;
            }
        }
        int rc = PyList_Append(out, name);
        Py_DECREF(name);
        if (rc < 0)
            goto fail;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyBuffer_Release(&k);
    PyBuffer_Release(&s);
    PyBuffer_Release(&t);
    return out;
}

/* Copyright lines: scan._copyright_texts (the markers in order, then the line each starts). */

/* The first "Copyright" or "COPYRIGHT" at or after from, or n: a memchr for the 'C' both start with (0.3-0.5% of
 * the bytes of real string sections), then the other eight bytes compared. */
static Py_ssize_t
next_copyright_word(const unsigned char *d, Py_ssize_t n, Py_ssize_t from)
{
    while (n - from >= 9) {
        const unsigned char *c = memchr(d + from, 'C', (size_t)(n - from - 8));
        if (c == NULL)
            return n;
        if (memcmp(c + 1, "opyright", 8) == 0 || memcmp(c + 1, "OPYRIGHT", 8) == 0)
            return c - d;
        from = c - d + 1;
    }
    return n;
}

/* The first C2 A9 ("\u00a9" in UTF-8) at or after from, or n: a memchr for its second byte. */
static Py_ssize_t
next_copyright_sign(const unsigned char *d, Py_ssize_t n, Py_ssize_t from)
{
    while (n - from >= 2) {
        const unsigned char *c = memchr(d + from + 1, 0xA9, (size_t)(n - from - 1));
        if (c == NULL)
            return n;
        if (c[-1] == 0xC2)
            return c - 1 - d;
        from = c - d;
    }
    return n;
}

/* copyright_texts(region, tries, most) -> [bytes]: scan._copyright_texts without its decoding. The markers are taken
 * in order, `tries` of them at most; one that starts at or after the end of the last line taken starts a line when
 * 6 to 200 bytes other than NUL, LF and CR follow it (as many as there are, up to 200); after `most` lines (at least
 * one) the search stops. */
static PyObject *
copyright_texts(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *region;
    Py_ssize_t tries, most;
    if (!PyArg_ParseTuple(args, "Onn:copyright_texts", &region, &tries, &most))
        return NULL;
    Py_buffer r;
    if (PyObject_GetBuffer(region, &r, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *d = r.buf;
    Py_ssize_t n = r.len, end = 0;
    PyObject *out = PyList_New(0);
    Py_ssize_t word = next_copyright_word(d, n, 0), sign = next_copyright_sign(d, n, 0);
    for (Py_ssize_t k = 0; out != NULL && k < tries && (word < n || sign < n); k++) {
        Py_ssize_t pos, mark;
        if (word < sign) {
            pos = word, mark = 9;
            word = next_copyright_word(d, n, pos + 1);
        } else {
            pos = sign, mark = 2;
            sign = next_copyright_sign(d, n, pos + 1);
        }
        if (pos < end)
            continue;
        Py_ssize_t q = pos + mark, stop = n - q > 200 ? q + 200 : n;
        while (q < stop && d[q] != 0 && d[q] != '\n' && d[q] != '\r')
            q++;
        if (q - pos - mark < 6)
            continue;
        PyObject *text = PyBytes_FromStringAndSize((const char *)d + pos, q - pos);
        if (text == NULL || PyList_Append(out, text) < 0)
            Py_CLEAR(out);
        Py_XDECREF(text);
        end = q;
        if (out != NULL && PyList_GET_SIZE(out) >= most)
            break;
    }
    PyBuffer_Release(&r);
    return out;
}

/* Library file names: binary._so_spans (C strings "lib....so[.N]" of an ELF that calls dlopen). */

static inline int
so_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '+' || c == '-';
}

/* so_spans(region) -> [(start, end)]: for each ".so" in order (the next one searched 3 bytes on), the C string
 * around it that binary._so_name_around takes for a library file name: ".so", then digits and dots up to a NUL;
 * before it, up to 120 name characters back, starting with "lib" and more than 3 bytes long. A memchr for the '.'. */
static PyObject *
so_spans(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer r;
    if (PyObject_GetBuffer(arg, &r, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *d = r.buf;
    Py_ssize_t n = r.len, from = 0;
    PyObject *out = PyList_New(0);
    while (out != NULL && n - from >= 3) {
        const unsigned char *dot = memchr(d + from, '.', (size_t)(n - from - 2));
        if (dot == NULL)
            break;
        Py_ssize_t pos = dot - d;
        if (dot[1] != 's' || dot[2] != 'o') {
            from = pos + 1;
            continue;
        }
        from = pos + 3;
        Py_ssize_t end = pos + 3;
        while (end < n && ((d[end] >= '0' && d[end] <= '9') || d[end] == '.'))
            end++;
        if (end >= n || d[end] != 0)
            continue;
        Py_ssize_t start = pos;
        while (start > 0 && so_name_char(d[start - 1]) && pos - start < 120)
            start--;
        if (pos - start <= 3 || memcmp(d + start, "lib", 3) != 0)
            continue;
        PyObject *span = Py_BuildValue("(nn)", start, end);
        if (span == NULL || PyList_Append(out, span) < 0)
            Py_CLEAR(out);
        Py_XDECREF(span);
    }
    PyBuffer_Release(&r);
    return out;
}

static PyMethodDef methods[] = {
    {"run_items", run_items, METH_VARARGS,
     "run_items(region, hashes, offsets, bitmap, blob, mask, min_len) -> [(item bytes, item id)]: the items that "
     "are maximal printable-ASCII runs of region."},
    {"lookup", lookup, METH_VARARGS,
     "lookup(candidates, hashes, offsets, bitmap, blob, mask) -> [(candidate, item id)]: the candidates (bytes, or "
     "str standing for its latin-1 bytes) that are items."},
    {"cxx_scopes", cxx_scopes, METH_O,
     "cxx_scopes(text) -> [str]: 'ns::name' of each mangled nested C++ name at the start of a line of ASCII text."},
    {"dex_code_items", dex_code_items, METH_VARARGS,
     "dex_code_items(data, class_defs_off, class_defs_size) -> {code_off: [(class def, method idx)]} or None: the "
     "code items of every class_data_item of a dex (android/dex.py); None where the data is malformed."},
    {"byte_counts", byte_counts, METH_O,
     "byte_counts(data) -> [int] * 256: how many times each byte value occurs in a bytes-like object."},
    {"symbol_names", symbol_names, METH_VARARGS,
     "symbol_names(table, strtab, entsize, little, keep_at, keep, defined_at, seen, most) -> [str] or None: the "
     "names of a symbol table's kept entries (binary.symbol_names); None past most bytes of names."},
    {"copyright_texts", copyright_texts, METH_VARARGS,
     "copyright_texts(region, tries, most) -> [bytes]: the copyright lines the markers of region start "
     "(scan._copyright_texts, undecoded)."},
    {"so_spans", so_spans, METH_O,
     "so_spans(region) -> [(start, end)]: the C strings 'lib....so[.N]' of region (binary._so_spans)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "licensegate._accel", "Compiled hot passes of a scan.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
    crc_init();
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "API", ACCEL_API) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
