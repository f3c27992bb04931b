# cython: language_level=3
"""Compiled twin of ``_reader_py``: the same names, values, errors and messages, faster.

``_reader_py`` is the specification; read its header for the theory of operation. Only
the representation differs here: the unread bytes live in one ``malloc`` buffer with a
read position (``_pos``) and the absolute offset of its first byte (``_base``), and each
unfinished aggregate is a C ``Frame`` on a growable array, so parsing stays resumable
and costs O(n) however the bytes are split. Nothing is reserved on a header's word
alone: a list gets room for all its elements only when they are few (16) or when the
bytes already fed could hold them (3 bytes each at least), so ``*2147483647`` reserves
nothing, and a large bulk string is allocated whole only once an eighth has arrived.

Two differences can be observed, neither by comparing values. The first two elements of
a push (kind and channel) may be the *same* bytes object across replies, since they are
taken from a small cache. And any Python code the parser calls back (codecs,
``__hash__``/``__eq__`` of error keys, a finaliser run by the garbage collector) must not
feed or read this same reader: that raises RuntimeError instead of corrupting the buffer
under the parser.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_SetItem
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.list cimport PyList_Append
from cpython.long cimport PyLong_FromLongLong
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF
from cpython.set cimport PySet_Add, PySet_Check
from libc.stdint cimport INT64_MAX, int64_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy, memmove, strlen

import codecs
import math

from .errors import DataError, ProtocolError, error_from_reply
from .types import INCOMPLETE, Push

__all__ = ["DEFAULT_MAX_BULK_LEN", "DEFAULT_MAX_DEPTH", "Reader", "encode_command", "pack_commands"]

DEFAULT_MAX_BULK_LEN = 512 * 1024 * 1024
DEFAULT_MAX_DEPTH = 512
MAX_NUMBER_LINE = 64
cdef Py_ssize_t _MAX_NUMBER_LINE = MAX_NUMBER_LINE
# A bulk string at least this long goes into its bytes object as it arrives, once an
# eighth of it is here, instead of through the buffer (one copy fewer, no regrowth).
cdef Py_ssize_t BIG_BULK = 256 * 1024


cdef extern from "Python.h":
    ctypedef struct PyListObject:
        PyObject** ob_item
    Py_ssize_t Py_SIZE(object)
    bint PyList_Check(object)
    bint PyDict_Check(object)
    double PyOS_string_to_double(const char*, char**, PyObject*) except? -1.0
    char* PyOS_double_to_string(double, char, int, int, int*) except NULL
    int Py_DTSF_ADD_DOT_0
    object PyUnicode_DecodeUTF8(const char*, Py_ssize_t, const char*)
    object PyUnicode_Decode(const char*, Py_ssize_t, const char*, const char*)
    object PyUnicode_AsUTF8String(object)
    bint PyUnicode_IS_ASCII(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1
    Py_ssize_t PyLong_AsSsize_t_raw "PyLong_AsSsize_t"(PyObject*)
    int PyObject_GetBuffer(PyObject*, Py_buffer*, int)  # no ``except``: errors are replaced
    PyObject* PyErr_Occurred()
    void PyErr_Clear()


cdef extern from *:
    """
    #include <float.h>

    /* An empty list (or list subclass: Push) with room for ``cap`` items. It stays a
       valid list throughout: items are added at the end by resp3_append. */
    static PyObject *resp3_new_list(PyTypeObject *type, Py_ssize_t cap) {
        PyObject *op = type == &PyList_Type ? PyList_New(0) : type->tp_alloc(type, 0);
        if (op == NULL || cap == 0) return op;
        PyObject **items = (PyObject **)PyMem_Malloc((size_t)cap * sizeof(PyObject *));
        if (items == NULL) { Py_DECREF(op); return PyErr_NoMemory(); }
        ((PyListObject *)op)->ob_item = items;
        ((PyListObject *)op)->allocated = cap;
        return op;
    }

    /* PyList_Append without the call, while the room reserved above lasts (PyList_Append
       itself would shrink a list whose size is under half its allocation). */
    static inline int resp3_append(PyObject *list, PyObject *item) {
        PyListObject *self = (PyListObject *)list;
        Py_ssize_t n = Py_SIZE(self);
        if (n < self->allocated) {
            Py_INCREF(item);
            self->ob_item[n] = item;
            Py_SET_SIZE(self, n + 1);
            return 0;
        }
        return PyList_Append(list, item);
    }

    /* Powers of ten that a double holds exactly, for the exact fast path of doubles. */
    static const double resp3_pow10[23] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
        1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    #if FLT_EVAL_METHOD == 0
    #define RESP3_EXACT_DOUBLES 1
    #else
    #define RESP3_EXACT_DOUBLES 0  /* x87 extended precision would round twice */
    #endif

    /* The Eisel-Lemire conversion of w * 10**q, as in fast_float (Lemire, "Number
       parsing at a gigabyte per second", and Mushtak & Lemire, "Fast number parsing
       without fallback"): correctly rounded for every w < 2**64 given 128-bit truncated
       powers of five. q is limited to where every result is a normal finite double,
       so the subnormal and overflow branches are not needed. */
    #define RESP3_Q_MIN (-307)
    #define RESP3_Q_MAX 289
    static uint64_t resp3_p5_hi[RESP3_Q_MAX - RESP3_Q_MIN + 1];
    static uint64_t resp3_p5_lo[RESP3_Q_MAX - RESP3_Q_MIN + 1];

    static inline void resp3_mul64(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi) {
    #if defined(__SIZEOF_INT128__)
        unsigned __int128 p = (unsigned __int128)a * b;
        *lo = (uint64_t)p;
        *hi = (uint64_t)(p >> 64);
    #else
        uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
        uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
        uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
        *lo = (mid << 32) | (uint32_t)p00;
        *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    #endif
    }

    static int resp3_eisel_lemire(uint64_t w, int q, double *out) {
        int lz = 0;
        uint64_t lo, hi, lo2, hi2, mantissa, bits;
        int index, upperbit, shift;
        int32_t power2;
        if (w == 0 || q < RESP3_Q_MIN || q > RESP3_Q_MAX) return 0;
        while (!(w >> 63)) { w <<= 1; lz++; }
        index = q - RESP3_Q_MIN;
        resp3_mul64(w, resp3_p5_hi[index], &lo, &hi);
        if ((hi & 0x1FF) == 0x1FF) {
            resp3_mul64(w, resp3_p5_lo[index], &lo2, &hi2);
            lo += hi2;
            if (hi2 > lo) hi++;
        }
        upperbit = (int)(hi >> 63);
        shift = upperbit + 64 - 52 - 3;
        mantissa = hi >> shift;
        power2 = (int32_t)((((152170 + 65536) * q) >> 16) + 63 + upperbit - lz + 1023);
        if (power2 <= 0) return 0;
        if (lo <= 1 && q >= -4 && q <= 23 && (mantissa & 3) == 1
                && (mantissa << shift) == hi)
            mantissa &= ~(uint64_t)1;  /* exactly halfway: round to even */
        mantissa += mantissa & 1;
        mantissa >>= 1;
        if (mantissa >= ((uint64_t)2 << 52)) {
            mantissa = (uint64_t)1 << 52;
            power2++;
        }
        mantissa &= ~((uint64_t)1 << 52);
        if (power2 >= 0x7FF) return 0;
        bits = mantissa | ((uint64_t)power2 << 52);
        memcpy(out, &bits, sizeof(bits));
        return 1;
    }
    """
    object resp3_new_list(PyTypeObject*, Py_ssize_t)
    int resp3_append(object, object) except -1
    const double* resp3_pow10
    bint RESP3_EXACT_DOUBLES
    int RESP3_Q_MIN, RESP3_Q_MAX
    uint64_t* resp3_p5_hi
    uint64_t* resp3_p5_lo
    bint resp3_eisel_lemire(uint64_t, int, double*) noexcept nogil


ctypedef struct Frame:
    PyObject* container  # owned: list, Push, dict or set under construction
    PyObject* key        # owned: the map key waiting for its value, or NULL
    uint64_t remaining   # elements still expected (keys and values count apart)
    int kind
    bint streamed        # ends on '.' (or ';0' for a streamed string)

cdef enum:
    K_ARRAY, K_MAP, K_SET, K_PUSH, K_ATTR, K_STRING

cdef object _INCOMPLETE = INCOMPLETE
cdef object _Push = Push
cdef object _ProtocolError = ProtocolError
cdef object _DataError = DataError
cdef object _error_from_reply = error_from_reply
cdef bytes _OK = b"OK"
cdef bint _KNOWN[256]
cdef bint _NUMBERED[256]
cdef int _KIND[256]


cdef void _init_tables() noexcept:
    cdef const unsigned char* known = b"+-:$*%~>|_#,(=!;."
    cdef const unsigned char* numbered = b"$*%~>|:#_=!;."
    cdef int i
    for i in range(<int>strlen(<const char*>known)):
        _KNOWN[known[i]] = True
    for i in range(<int>strlen(<const char*>numbered)):
        _NUMBERED[numbered[i]] = True
    _KIND[42], _KIND[37], _KIND[126], _KIND[62], _KIND[124] = K_ARRAY, K_MAP, K_SET, K_PUSH, K_ATTR


_init_tables()


cdef inline Py_ssize_t _find_crlf(const unsigned char* buf, Py_ssize_t start, Py_ssize_t end):
    """Index of the first CRLF at or after ``start``, or -1."""
    cdef const unsigned char* p = buf + start
    cdef const unsigned char* stop = buf + end
    while p < stop:
        if p[0] == 13:
            if p + 1 >= stop:
                return -1
            if p[1] == 10:
                return p - buf
        p += 1
        if p + 16 <= stop and p[0] != 13:
            p = <const unsigned char*>memchr(p, 13, stop - p)
            if p == NULL:
                return -1
    return -1


cdef inline int _parse_int(const unsigned char* s, Py_ssize_t n, int64_t* out) noexcept nogil:
    """0: ``[-]digits`` within int64; 1: not that grammar; 2: out of range."""
    cdef Py_ssize_t i = 0
    cdef bint neg = False
    cdef bint over = False
    cdef uint64_t acc = 0
    cdef unsigned int d
    if n and s[0] == 45:
        neg = True
        i = 1
    if i == n:
        return 1
    while i < n:
        d = s[i] - 48
        if d > 9:
            return 1
        if acc > 922337203685477580ULL or (acc == 922337203685477580ULL and d > 7u + neg):
            over = True
        else:
            acc = acc * 10 + d
        i += 1
    if over:
        return 2
    out[0] = <int64_t>(0 - acc) if neg else <int64_t>acc
    return 0


cdef inline Py_ssize_t _scan_number(const unsigned char* buf, Py_ssize_t start, Py_ssize_t end,
                                    int64_t* out) noexcept nogil:
    """Index of the CRLF ending ``[-]digits`` (1 to 18) at ``start``, else -1."""
    cdef Py_ssize_t i = start
    cdef Py_ssize_t stop
    cdef int64_t acc = 0
    cdef unsigned int d
    cdef bint neg = i < end and buf[i] == 45
    if neg:
        i += 1
    stop = i + 18 if end - i > 18 else end
    d = buf[i] - 48 if i < stop else 10
    if d > 9:
        return -1
    while True:
        acc = acc * 10 + d
        i += 1
        if i >= stop:
            return -1
        d = buf[i] - 48
        if d > 9:
            break
    if buf[i] != 13 or i + 1 >= end or buf[i + 1] != 10:
        return -1
    out[0] = -acc if neg else acc
    return i


cdef inline Py_ssize_t _digits(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and <unsigned int>(s[i] - 48) < 10u:
        i += 1
    return i


cdef bint _is_double(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    """fullmatch of ``[+-]?(?:inf|nan|(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)``"""
    cdef Py_ssize_t i = 0, j
    if n and (s[0] == 43 or s[0] == 45):
        i = 1
    if n - i == 3 and ((s[i] == 105 and s[i + 1] == 110 and s[i + 2] == 102)
                       or (s[i] == 110 and s[i + 1] == 97 and s[i + 2] == 110)):
        return True
    j = _digits(s, i, n)
    if j > i:
        if j < n and s[j] == 46:
            j = _digits(s, j + 1, n)
    elif j < n and s[j] == 46:
        i = j + 1
        j = _digits(s, i, n)
        if j == i:
            return False
    else:
        return False
    if j < n and (s[j] == 101 or s[j] == 69):
        j += 1
        if j < n and (s[j] == 43 or s[j] == 45):
            j += 1
        i = j
        j = _digits(s, j, n)
        if j == i:
            return False
    return j == n


cdef bint _fast_double(const unsigned char* s, Py_ssize_t n, double* out) noexcept nogil:
    """Convert a valid double line of at most 19 significant digits and a sane exponent.

    Up to 15 digits with a power of ten up to 22, both factors are exact doubles and one
    IEEE operation rounds correctly (Clinger); otherwise Eisel-Lemire. Either way the
    result is the correctly rounded one, as from ``float()``. False for the rest (inf,
    nan, longer significands, extreme exponents): the caller falls back.
    """
    cdef Py_ssize_t i = 0, scale = 0, exp10 = 0
    cdef bint neg = False, exp_neg = False
    cdef uint64_t mantissa = 0
    cdef int digits = 0
    cdef double value
    if not RESP3_EXACT_DOUBLES:
        return False
    if n and (s[0] == 43 or s[0] == 45):
        neg = s[0] == 45
        i = 1
    while i < n and <unsigned int>(s[i] - 48) < 10u:
        if mantissa or s[i] != 48:
            mantissa = mantissa * 10 + (s[i] - 48)
            digits += 1
        i += 1
    if i < n and s[i] == 46:
        i += 1
        while i < n and <unsigned int>(s[i] - 48) < 10u:
            if mantissa or s[i] != 48:
                mantissa = mantissa * 10 + (s[i] - 48)
                digits += 1
            scale -= 1
            i += 1
    if digits > 19:
        return False
    if i < n:
        if s[i] != 101 and s[i] != 69:
            return False  # inf or nan
        i += 1
        if s[i] == 43 or s[i] == 45:
            exp_neg = s[i] == 45
            i += 1
        while i < n:
            exp10 = exp10 * 10 + (s[i] - 48)
            if exp10 > 400:
                return False
            i += 1
    exp10 = scale - exp10 if exp_neg else scale + exp10
    if mantissa == 0:
        value = 0.0
    elif digits <= 15 and -22 <= exp10 <= 22:
        value = <double>mantissa
        if exp10 < 0:
            value = value / resp3_pow10[-exp10]
        else:
            value = value * resp3_pow10[exp10]
    elif not (RESP3_Q_MIN <= exp10 <= RESP3_Q_MAX
              and resp3_eisel_lemire(mantissa, <int>exp10, &value)):
        return False
    out[0] = -value if neg else value
    return True


cdef void _init_powers_of_five():
    """128-bit truncated powers of five for Eisel-Lemire (fast_float's table)."""
    cdef int q, index = 0
    cdef object c, p5, mask = (1 << 64) - 1, five = 5
    for q in range(RESP3_Q_MIN, RESP3_Q_MAX + 1):
        if q < 0:
            p5 = five ** -q
            z = p5.bit_length()  # 2**(z-1) < p5 < 2**z
            if q >= -27:
                c = (<object>1 << (z + 127)) // p5 + 1
            else:
                c = (<object>1 << (2 * z + 128)) // p5 + 1
                c >>= max(0, c.bit_length() - 128)
        else:
            p5 = five ** q
            z = p5.bit_length()
            c = p5 >> (z - 128) if z > 128 else p5 << (128 - z)
        resp3_p5_hi[index] = c >> 64
        resp3_p5_lo[index] = c & mask
        index += 1


_init_powers_of_five()


cdef bint _is_bignum(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i = 1 if n and (s[0] == 43 or s[0] == 45) else 0
    return i < n and _digits(s, i, n) == n


cdef object _hashable(object value):
    """Map keys and set members must be hashable: lists become tuples, recursively."""
    if PyList_Check(value):
        return tuple([_hashable(v) for v in <list>value])
    if PyDict_Check(value):
        return tuple([(_hashable(k), _hashable(v)) for k, v in (<dict>value).items()])
    if PySet_Check(value):
        return frozenset(value)
    return value


cdef inline bint _needs_hashable(object value) noexcept:
    return PyList_Check(value) or PyDict_Check(value) or PySet_Check(value)


cdef object _type_name(unsigned char byte):
    return repr(chr(byte))


cdef object _line_repr(const unsigned char* line, Py_ssize_t n):
    return repr(PyBytes_FromStringAndSize(<const char*>line, n if n < 32 else 32))


cdef int64_t _floor_limit(object value) except? -1:
    """The int64 k with ``n > value`` iff ``n > k`` for every int n (nan and inf: never)."""
    if isinstance(value, float):
        if value != value or value >= 9.2e18:
            return INT64_MAX
        value = math.floor(value)
    elif not isinstance(value, int):
        value = math.floor(value)
    return INT64_MAX if value >= INT64_MAX else value


cdef Py_ssize_t _ceil_limit(object value) except? -1:
    """The Py_ssize_t k with ``n >= value`` iff ``n >= k`` for every int n."""
    if isinstance(value, float):
        if value != value or value >= <double>PY_SSIZE_T_MAX:
            return PY_SSIZE_T_MAX
        value = math.ceil(value)
    elif not isinstance(value, int):
        value = math.ceil(value)
    return PY_SSIZE_T_MAX if value >= PY_SSIZE_T_MAX else value


cdef object _concat_error(object data):
    """What ``bytearray += data`` raises for an object without a byte buffer."""
    cdef object cls = type(data)
    name = (<PyTypeObject*>cls).tp_name.decode()
    return TypeError(f"can't concat {name[:100]} to bytearray")


cdef class Reader:
    """Incremental RESP2/RESP3 parser with the ``feed()``/``gets()`` contract of hiredis.

    Error replies are *returned* as :class:`~resp3.ResponseError` instances; the caller
    decides to raise. ``encoding`` turns simple, bulk and verbatim strings into ``str``.
    ``protocol`` is recorded for the connection's benefit; both grammars are always
    understood, since RESP2 is a subset of RESP3.
    """

    cdef unsigned char* _buf
    cdef Py_ssize_t _len, _cap, _pos
    cdef Py_ssize_t _want  # bytes from _pos that the unfinished bulk payload needs
    # A large bulk string in transit: its final bytes object, filled by feed() directly.
    cdef object _big
    cdef Py_ssize_t _big_fill, _big_size
    cdef int64_t _big_start  # stream offset of its '$' (where the Python twin's _pos is)
    # The first two elements of a push (kind, channel) repeat: reuse equal bytes objects.
    cdef PyObject* _push_heads[8]
    cdef int64_t _base  # stream offset of _buf[0], for error messages
    cdef Frame* _stack
    cdef Py_ssize_t _depth, _stack_cap
    cdef int64_t _max_bulk
    cdef Py_ssize_t _max_nesting
    cdef bint _busy, _utf8, _string_open
    cdef object _protocol, _encoding, _errors, _max_bulk_len, _max_depth
    cdef bytes _encoding_c, _errors_c
    cdef object _attrs, _pending_attr, _failure

    def __cinit__(self):
        self._max_bulk = DEFAULT_MAX_BULK_LEN
        self._max_nesting = DEFAULT_MAX_DEPTH
        self._max_bulk_len = DEFAULT_MAX_BULK_LEN
        self._max_depth = DEFAULT_MAX_DEPTH
        self._protocol = 3
        self._errors = "strict"
        self._errors_c = b"strict"

    def __init__(
        self,
        protocol=3,
        encoding=None,
        errors="strict",
        max_bulk_len=DEFAULT_MAX_BULK_LEN,
        max_depth=DEFAULT_MAX_DEPTH,
    ):
        if protocol not in (2, 3):
            raise ValueError(f"protocol must be 2 or 3, got {protocol!r}")
        if encoding is not None:
            codecs.lookup(encoding)
        codecs.lookup_error(errors)
        if max_bulk_len < 0:
            raise ValueError(f"max_bulk_len must be >= 0, got {max_bulk_len!r}")
        if max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, got {max_depth!r}")
        if self._busy:
            raise RuntimeError("Reader.__init__() called while the reader is parsing")
        self._max_bulk = _floor_limit(max_bulk_len)
        self._max_nesting = _ceil_limit(max_depth)
        self._protocol = protocol
        self._encoding = encoding
        self._errors = errors
        self._errors_c = errors.encode()
        self._max_bulk_len = max_bulk_len
        self._max_depth = max_depth
        self._utf8 = encoding is not None and codecs.lookup(encoding).name == "utf-8"
        self._encoding_c = None if encoding is None else encoding.encode()
        self._clear_stack()
        self._len = self._pos = 0
        self._base = 0
        self._attrs = self._pending_attr = self._failure = self._big = None
        self._want = 0

    def __dealloc__(self):
        cdef int i
        for i in range(8):
            Py_XDECREF(self._push_heads[i])
        self._clear_stack()
        PyMem_Free(self._stack)
        PyMem_Free(self._buf)

    @cython.final
    cdef void _clear_stack(self) noexcept:
        cdef Frame* frame
        self._string_open = False
        while self._depth:
            self._depth -= 1
            frame = &self._stack[self._depth]
            Py_XDECREF(frame.container)
            Py_XDECREF(frame.key)

    @property
    def protocol(self):
        return self._protocol

    @protocol.setter
    def protocol(self, value):
        if value not in (2, 3):
            raise ValueError(f"protocol must be 2 or 3, got {value!r}")
        self._protocol = value

    @property
    def encoding(self):
        return self._encoding

    @property
    def attributes(self):
        """The attribute map (``|``) that preceded the last top-level reply, if any."""
        return self._attrs

    def buffered(self):
        """Bytes fed but not yet consumed by a complete reply."""
        if self._big is not None:
            return self._base + self._len - self._big_start
        return self._len - self._pos

    def feed(self, data, offset=0, length=-1):
        """Append bytes (copied: the caller may reuse its buffer at once)."""
        cdef Py_ssize_t off, size, count
        cdef const char* src
        cdef Py_buffer view
        cdef type kind = type(data)
        if (kind is bytes or kind is bytearray) and type(offset) is int and type(length) is int:
            off = PyLong_AsSsize_t_raw(<PyObject*>offset)
            count = PyLong_AsSsize_t_raw(<PyObject*>length)
            if PyErr_Occurred() == NULL:
                if kind is bytes:
                    src = PyBytes_AS_STRING(data)
                    size = PyBytes_GET_SIZE(data)
                else:
                    src = PyByteArray_AS_STRING(data)
                    size = PyByteArray_GET_SIZE(data)
                if off < 0 or off > size or (count >= 0 and count > size - off):
                    raise ValueError("offset/length out of range")
                self._append(src + off, size - off if count < 0 else count)
                return
            PyErr_Clear()
        if offset or length != -1:
            mview = memoryview(data).cast("B")
            end = len(mview) if length < 0 else offset + length
            if offset < 0 or end > len(mview) or offset > end:
                raise ValueError("offset/length out of range")
            data = mview[slice(offset, end)]  # Python slicing semantics and errors
        if PyObject_GetBuffer(<PyObject*>data, &view, PyBUF_SIMPLE) == -1:
            PyErr_Clear()
            raise _concat_error(data) from None
        try:
            self._append(<const char*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    @cython.final
    cdef int _append(self, const char* data, Py_ssize_t n) except -1:
        cdef Py_ssize_t need, cap, count
        cdef unsigned char* grown
        if self._busy:
            raise RuntimeError("Reader.feed() called while the reader is parsing")
        if self._big is not None and self._pos == self._len and self._big_fill < self._big_size:
            count = min(n, self._big_size - self._big_fill)
            memcpy(PyBytes_AS_STRING(self._big) + self._big_fill, data, count)
            self._big_fill += count
            self._base += self._len + count  # those bytes are consumed already
            self._len = self._pos = 0
            data += count
            n -= count
        if self._pos == self._len and self._cap > 4 * 1024 * 1024 and n < self._cap // 4:
            PyMem_Free(self._buf)  # give back the room a huge reply needed
            self._buf = NULL
            self._cap = 0
        if self._pos:
            if self._pos == self._len:
                self._base += self._pos
                self._len = self._pos = 0
            elif self._len + n >= self._cap or self._pos > 65536:
                memmove(self._buf, self._buf + self._pos, self._len - self._pos)
                self._base += self._pos
                self._len -= self._pos
                self._pos = 0
        need = self._len + n + 1  # +1: room for the NUL that double parsing writes
        if need > self._cap:
            cap = self._cap * 2
            if cap < need:
                cap = need
            # A bulk payload is on its way: make room for it at once, but never more
            # than 8 times what has arrived, whatever its header claims.
            if self._pos + self._want + 1 > cap and self._want + 1 <= 8 * need:
                cap = self._pos + self._want + 1
            if cap < 16384:
                cap = 16384
            grown = <unsigned char*>PyMem_Realloc(self._buf, cap)
            if grown == NULL:
                raise MemoryError()
            self._buf = grown
            self._cap = cap
        memcpy(self._buf + self._len, data, n)
        self._len += n
        return 0

    def gets(self):
        """Return the next complete reply, or ``INCOMPLETE``. Raises ProtocolError."""
        return self._next()

    def gets_all(self):
        """Every complete reply buffered now, in order (possibly none)."""
        cdef list out = []
        while True:
            reply = self._next()
            if reply is _INCOMPLETE:
                return out
            out.append(reply)

    @cython.final
    cdef object _next(self):
        if self._failure is not None:
            raise _ProtocolError(str(self._failure))
        if self._busy:
            raise RuntimeError("Reader.gets() called while the reader is parsing")
        self._busy = True
        try:
            return self._parse()
        except _ProtocolError as exc:
            self._failure = exc
            raise
        finally:
            self._busy = False

    # -- parsing ---------------------------------------------------------------------

    @cython.final
    cdef object _fail(self, what, Py_ssize_t at):
        return _ProtocolError(f"{what} at offset {self._base + at}")

    @cython.final
    cdef object _number_error(self, int rc, const unsigned char* line, Py_ssize_t n,
                              unsigned char type_byte, Py_ssize_t at):
        if rc == 1:
            return self._fail(
                f"invalid number {_line_repr(line, n)} for type {_type_name(type_byte)}", at
            )
        return self._fail(f"number {_line_repr(line, n)} out of 64-bit range", at)

    @cython.final
    cdef object _decode(self, const unsigned char* data, Py_ssize_t n, Py_ssize_t at):
        if self._encoding is None:
            return PyBytes_FromStringAndSize(<const char*>data, n)
        try:
            if self._utf8:
                return PyUnicode_DecodeUTF8(<const char*>data, n, self._errors_c)
            return PyUnicode_Decode(<const char*>data, n, self._encoding_c, self._errors_c)
        except UnicodeDecodeError as exc:
            raise self._fail(
                f"cannot decode string as {self._encoding} ({exc.reason})", at
            ) from None

    @cython.final
    cdef int _push(self, int kind, object container, uint64_t remaining,
                   bint streamed) except -1:
        cdef Frame* frame
        cdef Py_ssize_t cap
        if self._depth == self._stack_cap:
            cap = self._stack_cap * 2 if self._stack_cap else 16
            frame = <Frame*>PyMem_Realloc(self._stack, cap * sizeof(Frame))
            if frame == NULL:
                raise MemoryError()
            self._stack = frame
            self._stack_cap = cap
        frame = &self._stack[self._depth]
        Py_INCREF(container)
        frame.container = <PyObject*>container
        frame.key = NULL
        frame.remaining = remaining
        frame.kind = kind
        frame.streamed = streamed
        self._depth += 1
        self._string_open = kind == K_STRING
        return 0

    @cython.final
    cdef object _pop(self):
        """Remove the top frame and return its (now complete) container."""
        self._depth -= 1
        self._string_open = False
        cdef Frame* frame = &self._stack[self._depth]
        cdef object container = <object>frame.container
        Py_DECREF(container)  # the frame's reference; ``container`` holds its own
        frame.container = NULL
        Py_XDECREF(frame.key)
        frame.key = NULL
        return container

    @cython.final
    cdef inline bint _in_string(self) noexcept:
        # A streamed string holds only ';' chunks, never frames: it can only be on top.
        return self._string_open

    @cython.final
    cdef int _open(self, int kind, int64_t n, bint streamed, Py_ssize_t room,
                   Py_ssize_t at) except -1:
        """Push a frame for a non-empty aggregate of ``n`` elements (or a streamed one)."""
        cdef Py_ssize_t room_for = 0
        if self._depth >= self._max_nesting:
            raise self._fail(f"nesting deeper than max_depth={self._max_depth}", at)
        if kind == K_ARRAY or kind == K_PUSH:
            if not streamed and (n <= 16 or n <= room // 3):
                room_for = n
            container = resp3_new_list(
                <PyTypeObject*>(list if kind == K_ARRAY else _Push), room_for
            )
        elif kind == K_SET:
            container = set()
        else:
            container = {}
        self._push(kind, container, 0 if streamed else
                   <uint64_t>n * (2 if kind == K_MAP or kind == K_ATTR else 1), streamed)
        return 0

    @cython.final
    cdef int _start_big(self, int64_t n, Py_ssize_t pos, Py_ssize_t nxt) except -1:
        """Move a large, partly received bulk payload into its final bytes object."""
        cdef Py_ssize_t count = min(self._len - nxt, n)
        self._big = PyBytes_FromStringAndSize(NULL, n)
        memcpy(PyBytes_AS_STRING(self._big), self._buf + nxt, count)
        self._big_fill = count
        self._big_size = n
        self._big_start = self._base + pos
        self._pos = nxt + count
        return 0

    @cython.final
    cdef object _finish_big(self):
        """The completed large bulk string, once its CRLF is checked."""
        cdef Py_ssize_t pos = self._pos
        if self._buf[pos] != 13 or self._buf[pos + 1] != 10:
            raise self._fail(
                f"missing CRLF after {self._big_size}-byte payload of type '$'", pos
            )
        value = self._big
        if self._encoding is not None:  # may raise: the payload stays for the next gets()
            value = self._decode(
                <const unsigned char*>PyBytes_AS_STRING(value), self._big_size,
                <Py_ssize_t>(self._big_start - self._base),
            )
        self._big = None
        return value

    @cython.final
    cdef inline object _bulk(self, const unsigned char* data, Py_ssize_t n):
        """A bulk string's bytes; a push's first two come from the cache below."""
        cdef Frame* frame
        if 0 < n <= 64 and self._depth:
            frame = &self._stack[self._depth - 1]
            if frame.kind == K_PUSH and Py_SIZE(<object>frame.container) < 2:
                return self._push_head(data, n, Py_SIZE(<object>frame.container))
        return PyBytes_FromStringAndSize(<const char*>data, n)

    @cython.final
    cdef object _push_head(self, const unsigned char* data, Py_ssize_t n, Py_ssize_t index):
        """An equal bytes object from the cache of push kinds and channels, or a new one."""
        cdef int slot = index * 4 + ((n + data[0] + data[n - 1]) & 3)
        cdef PyObject* cached = self._push_heads[slot]
        if (cached != NULL and Py_SIZE(<object>cached) == n
                and memcmp(PyBytes_AS_STRING(<object>cached), data, n) == 0):
            return <object>cached
        value = PyBytes_FromStringAndSize(<const char*>data, n)
        Py_INCREF(value)
        Py_XDECREF(cached)
        self._push_heads[slot] = <PyObject*>value
        return value

    @cython.final
    cdef bint _simple_run(self, Frame* frame) except -1:
        """Take the next plain elements of the array or push on top straight in.

        Only the common case: ``$<n>`` with its whole payload and CRLF, and ``:<n>``.
        Anything else (null, streamed, too long, incomplete, malformed) is left for the
        general loop, which also reports every error. True when the frame is complete.
        """
        cdef unsigned char* buf = self._buf
        cdef Py_ssize_t end = self._len
        cdef Py_ssize_t pos = self._pos
        cdef Py_ssize_t nl
        cdef int64_t n
        cdef object container = <object>frame.container
        while frame.remaining and pos < end:
            if buf[pos] == 36:  # $
                nl = _scan_number(buf, pos + 1, end, &n)
                if nl < 0 or n < 0 or n > self._max_bulk or end - nl - 4 < n:
                    break
                if buf[nl + 2 + n] != 13 or buf[nl + 3 + n] != 10:
                    break
                resp3_append(container, self._bulk(buf + nl + 2, n))
                pos = nl + n + 4
            elif buf[pos] == 58:  # :
                nl = _scan_number(buf, pos + 1, end, &n)
                if nl < 0:
                    break
                resp3_append(container, PyLong_FromLongLong(n))
                pos = nl + 2
            else:
                break
            frame.remaining -= 1
            self._pos = pos
        return frame.remaining == 0

    @cython.final
    cdef object _parse(self):
        cdef unsigned char* buf
        cdef const unsigned char* line
        cdef const unsigned char* data
        cdef Py_ssize_t end, pos, nl, nxt, size
        cdef int64_t n = 0
        cdef double number
        cdef int rc, kind
        cdef unsigned char type_byte
        cdef bint streamed
        cdef Frame* frame
        cdef object value
        self._want = 0
        while True:
            # Reloaded every element: Python code called below may have grown the buffer.
            buf = self._buf
            end = self._len
            pos = self._pos
            if self._big is not None:
                if self._big_fill < self._big_size or end - pos < 2:
                    return _INCOMPLETE
                value = self._finish_big()
                nxt = pos + 2
            else:
                if pos >= end:
                    return _INCOMPLETE
                type_byte = buf[pos]
                if not _KNOWN[type_byte]:
                    raise self._fail(f"unknown type byte {bytes([type_byte])!r}", pos)
                # Lengths and integers: digits straight to CRLF (else the general path below).
                rc = -1
                nl = _scan_number(buf, pos + 1, end, &n) if _NUMBERED[type_byte] else -1
                if nl >= 0:
                    rc = 0
                else:
                    nl = _find_crlf(buf, pos + 1, end)
                if nl < 0:
                    if (end - pos > _MAX_NUMBER_LINE if _NUMBERED[type_byte]
                            else end - pos - 2 > self._max_bulk):
                        raise self._fail(f"missing CRLF after type {_type_name(type_byte)}", pos)
                    return _INCOMPLETE
                line = buf + pos + 1
                size = nl - pos - 1
                nxt = nl + 2
                if type_byte != 59 and self._in_string():
                    raise self._fail(
                        f"expected ';' chunk in streamed string, got type {_type_name(type_byte)}",
                        pos,
                    )
                if type_byte == 36 or type_byte == 61 or type_byte == 33 or type_byte == 59:
                    # $ bulk string, = verbatim, ! bulk error, ; streamed-string chunk
                    if type_byte == 36 and size == 1 and line[0] == 63:  # $?
                        if self._depth >= self._max_nesting:
                            raise self._fail(
                                f"nesting deeper than max_depth={self._max_depth}", pos
                            )
                        self._push(K_STRING, [], 0, True)
                        self._pos = nxt
                        continue
                    if rc < 0:
                        rc = _parse_int(line, size, &n)
                    if rc:
                        raise self._number_error(rc, line, size, type_byte, pos)
                    if n < -1:
                        raise self._fail(
                            f"negative length {n} for type {_type_name(type_byte)}", pos
                        )
                    if n > self._max_bulk:
                        raise self._fail(
                            f"bulk length {n} exceeds max_bulk_len={self._max_bulk_len}", pos
                        )
                    if n == -1:
                        if type_byte != 36:
                            raise self._fail(
                                f"negative length -1 for type {_type_name(type_byte)}", pos
                            )
                        value = None
                    elif n == 0 and type_byte == 59:  # ';0' ends a streamed string
                        if not self._in_string():
                            raise self._fail("';' chunk outside a streamed string", pos)
                        value = b"".join(self._pop())
                        if self._encoding is not None:
                            value = self._decode(
                                <const unsigned char*>PyBytes_AS_STRING(value), Py_SIZE(value), pos
                            )
                    else:
                        if end - nxt - 2 < n:
                            if type_byte == 36 and n >= BIG_BULK and (end - nxt) * 8 >= n:
                                self._start_big(n, pos, nxt)
                            else:
                                self._want = nxt + n + 2 - self._pos
                            return _INCOMPLETE
                        data = buf + nxt
                        if data[n] != 13 or data[n + 1] != 10:
                            raise self._fail(
                                f"missing CRLF after {n}-byte payload of type "
                                f"{_type_name(type_byte)}",
                                nxt + n,
                            )
                        nxt += n + 2
                        if type_byte == 36:
                            if self._encoding is None:
                                value = self._bulk(data, n)
                            else:
                                value = self._decode(data, n, pos)
                        elif type_byte == 61:
                            if n < 4 or data[3] != 58:
                                raise self._fail("verbatim string without 'fmt:' prefix", pos)
                            value = self._decode(data + 4, n - 4, pos)
                        elif type_byte == 33:
                            value = _error_from_reply(
                                PyUnicode_DecodeUTF8(<const char*>data, n, "replace")
                            )
                        else:
                            if not self._in_string():
                                raise self._fail("';' chunk outside a streamed string", pos)
                            PyList_Append(
                                <object>self._stack[self._depth - 1].container,
                                PyBytes_FromStringAndSize(<const char*>data, n),
                            )
                            self._pos = nxt
                            continue
                elif type_byte == 58:  # : integer
                    if rc < 0:
                        rc = _parse_int(line, size, &n)
                    if rc:
                        raise self._number_error(rc, line, size, type_byte, pos)
                    value = PyLong_FromLongLong(n)
                elif type_byte == 43:  # + simple string
                    if size == 2 and line[0] == 79 and line[1] == 75 and self._encoding is None:
                        value = _OK
                    else:
                        value = self._decode(line, size, pos)
                elif type_byte == 42 or type_byte == 37 or type_byte == 126 or type_byte == 62 \
                        or type_byte == 124:  # * % ~ > |
                    kind = _KIND[type_byte]
                    streamed = size == 1 and line[0] == 63 and kind != K_PUSH and kind != K_ATTR
                    if not streamed:
                        if rc < 0:
                            rc = _parse_int(line, size, &n)
                        if rc:
                            raise self._number_error(rc, line, size, type_byte, pos)
                        if n < -1:
                            raise self._fail(
                                f"negative length {n} for type {_type_name(type_byte)}", pos
                            )
                        if n == -1:
                            if type_byte != 42:
                                raise self._fail(
                                    f"negative length -1 for type {_type_name(type_byte)}", pos
                                )
                            value = None
                    if streamed or n > 0:
                        self._open(kind, n, streamed, end - nxt, pos)
                        self._pos = nxt
                        if (streamed or self._encoding is not None
                                or not (kind == K_ARRAY or kind == K_PUSH)
                                or not self._simple_run(&self._stack[self._depth - 1])):
                            continue
                        value = self._pop()  # every element was simple: the frame is done
                        nxt = self._pos
                    if n == 0:
                        if kind == K_ARRAY:
                            value = []
                        elif kind == K_PUSH:
                            value = resp3_new_list(<PyTypeObject*>_Push, 0)
                        elif kind == K_SET:
                            value = set()
                        else:
                            value = {}
                            if kind == K_ATTR:
                                self._pos = nxt
                                if self._depth == 0:
                                    self._pending_attr = value
                                continue
                elif type_byte == 45:  # - simple error
                    value = _error_from_reply(
                        PyUnicode_DecodeUTF8(<const char*>line, size, "replace")
                    )
                elif type_byte == 95:  # _ null
                    if size:
                        raise self._fail(f"null with payload {_line_repr(line, size)}", pos)
                    value = None
                elif type_byte == 35:  # # boolean
                    if size == 1 and line[0] == 116:
                        value = True
                    elif size == 1 and line[0] == 102:
                        value = False
                    else:
                        raise self._fail(f"invalid boolean {_line_repr(line, size)}", pos)
                elif type_byte == 44:  # , double
                    if not _is_double(line, size):
                        raise self._fail(f"invalid double {_line_repr(line, size)}", pos)
                    if not _fast_double(line, size, &number):
                        buf[nl] = 0  # terminate the line in place for the C conversion
                        try:
                            number = PyOS_string_to_double(<const char*>line, NULL, NULL)
                        finally:
                            buf[nl] = 13
                    value = number
                elif type_byte == 40:  # ( big number
                    if not _is_bignum(line, size):
                        raise self._fail(f"invalid big number {_line_repr(line, size)}", pos)
                    try:
                        value = int(PyBytes_FromStringAndSize(<const char*>line, size))
                    except ValueError:  # longer than sys.get_int_max_str_digits() allows
                        raise self._fail(
                            f"big number of {size - (line[0] == 43 or line[0] == 45)} digits "
                            "exceeds the interpreter's limit (sys.set_int_max_str_digits)",
                            pos,
                        ) from None
                else:  # . end of a streamed aggregate
                    if size:
                        raise self._fail(f"end marker with payload {_line_repr(line, size)}", pos)
                    if self._depth == 0 or not self._stack[self._depth - 1].streamed:
                        raise self._fail("'.' outside a streamed aggregate", pos)
                    if self._stack[self._depth - 1].key != NULL:
                        raise self._fail("streamed map ended between a key and its value", pos)
                    value = self._pop()
            self._pos = nxt
            # A complete value: attach it to its parent, closing finished frames.
            while True:
                if self._depth == 0:
                    if self._attrs is not None or self._pending_attr is not None:
                        self._attrs = self._pending_attr
                        self._pending_attr = None
                    return value
                frame = &self._stack[self._depth - 1]
                kind = frame.kind
                if kind == K_ARRAY or kind == K_PUSH:
                    resp3_append(<object>frame.container, value)
                elif kind == K_SET:
                    PySet_Add(<object>frame.container,
                              _hashable(value) if _needs_hashable(value) else value)
                elif frame.key == NULL:  # K_MAP or K_ATTR
                    if _needs_hashable(value):
                        value = _hashable(value)
                    Py_INCREF(value)
                    frame.key = <PyObject*>value
                else:
                    PyDict_SetItem(<object>frame.container, <object>frame.key, value)
                    Py_DECREF(<object>frame.key)
                    frame.key = NULL
                if frame.streamed:
                    break
                frame.remaining -= 1
                if frame.remaining and (
                    self._encoding is not None
                    or not (kind == K_ARRAY or kind == K_PUSH)
                    or not self._simple_run(frame)
                ):
                    break
                value = self._pop()
                if kind == K_ATTR:
                    # Describes the next value; only a top-level one is kept, for .attributes.
                    if self._depth == 0:
                        self._pending_attr = value
                    break


# -- encoder -------------------------------------------------------------------------

ctypedef struct Out:
    char* data
    Py_ssize_t size
    Py_ssize_t cap
    bint heap  # ``data`` was allocated here, not the caller's stack array

cdef int _grow(Out* out, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap = out.cap * 2
    cdef char* data
    if cap < out.size + extra:
        cap = out.size + extra
    if out.heap:
        data = <char*>PyMem_Realloc(out.data, cap)
    else:
        data = <char*>PyMem_Malloc(cap)
        if data != NULL:
            memcpy(data, out.data, out.size)
    if data == NULL:
        raise MemoryError()
    out.data = data
    out.cap = cap
    out.heap = True
    return 0


cdef inline int _write_header(Out* out, char prefix, Py_ssize_t n) except -1:
    """``<prefix><n>\\r\\n``, with room reserved for what usually follows."""
    cdef char digits[24]
    cdef int i = 24
    cdef char* p
    if out.size + 26 > out.cap:
        _grow(out, 26)
    while True:
        i -= 1
        digits[i] = 48 + n % 10
        n //= 10
        if n == 0:
            break
    p = out.data + out.size
    p[0] = prefix
    memcpy(p + 1, digits + i, 24 - i)
    p += 25 - i
    p[0] = 13
    p[1] = 10
    out.size += 27 - i
    return 0


cdef inline int _write_bulk(Out* out, const char* data, Py_ssize_t n) except -1:
    _write_header(out, 36, n)
    if out.size + n + 2 > out.cap:
        _grow(out, n + 2)
    memcpy(out.data + out.size, data, n)
    out.data[out.size + n] = 13
    out.data[out.size + n + 1] = 10
    out.size += n + 2
    return 0


cdef object _encode_arg(object arg, object encoding, object errors):
    """The Python twin's ``_encode_arg``, for every type the fast paths leave out."""
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode(encoding, errors)
    if isinstance(arg, int) and not isinstance(arg, bool):
        return int.__repr__(arg).encode()
    if isinstance(arg, float):
        return float.__repr__(arg).encode()
    if isinstance(arg, bytearray):
        return arg
    if isinstance(arg, memoryview):
        if not arg.c_contiguous:  # a strided view (mv[::2]): send its logical bytes
            return arg.tobytes()
        return arg if arg.format == "B" and arg.ndim == 1 else arg.cast("B")
    raise TypeError


cdef int _append_slow(Out* out, object arg, Py_ssize_t index, object encoding, object errors,
                      Py_ssize_t number) except -1:
    cdef Py_buffer view
    where = _where(number)
    try:
        data = _encode_arg(arg, encoding, errors)
    except TypeError:
        raise _DataError(
            f"{where}argument {index}: invalid type {type(arg).__name__}; "
            "expected bytes, bytearray, memoryview, str, int or float"
        ) from None
    except UnicodeEncodeError as exc:
        raise _DataError(
            f"{where}argument {index}: cannot encode str as {encoding}: {exc}"
        ) from None
    except ValueError as exc:  # int past sys.get_int_max_str_digits(), released memoryview
        raise _DataError(
            f"{where}argument {index}: cannot encode {type(arg).__name__}: {exc}"
        ) from None
    _write_header(out, 36, len(data))
    if PyObject_GetBuffer(<PyObject*>data, &view, PyBUF_SIMPLE) == -1:
        PyErr_Clear()
        raise _concat_error(data) from None
    try:
        _write_bulk_tail(out, <const char*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return 0


cdef int _write_bulk_tail(Out* out, const char* data, Py_ssize_t n) except -1:
    if out.size + n + 2 > out.cap:
        _grow(out, n + 2)
    memcpy(out.data + out.size, data, n)
    out.data[out.size + n] = 13
    out.data[out.size + n + 1] = 10
    out.size += n + 2
    return 0


cdef int _append_arg(Out* out, object arg, Py_ssize_t index, object encoding, object errors,
                     bint utf8, Py_ssize_t number) except -1:
    cdef type kind = type(arg)
    cdef long long value
    cdef int overflow = 0
    cdef char digits[24]
    cdef int i
    cdef bint negative
    cdef unsigned long long magnitude
    cdef char* text
    if kind is bytes:
        return _write_bulk(out, PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg))
    if kind is str and utf8:
        if PyUnicode_IS_ASCII(arg):
            return _write_bulk(out, <const char*>PyUnicode_DATA(arg), PyUnicode_GET_LENGTH(arg))
        try:
            encoded = PyUnicode_AsUTF8String(arg)
        except UnicodeEncodeError:  # lone surrogates: the errors handler decides
            return _append_slow(out, arg, index, encoding, errors, number)
        return _write_bulk(out, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded))
    if kind is int:
        value = PyLong_AsLongLongAndOverflow(arg, &overflow)
        if overflow:
            return _append_slow(out, arg, index, encoding, errors, number)
        negative = value < 0
        magnitude = 0ULL - <unsigned long long>value if negative else <unsigned long long>value
        i = 24
        while True:
            i -= 1
            digits[i] = 48 + magnitude % 10
            magnitude //= 10
            if magnitude == 0:
                break
        if negative:
            i -= 1
            digits[i] = 45
        return _write_bulk(out, digits + i, 24 - i)
    if kind is float:
        text = PyOS_double_to_string(PyFloat_AS_DOUBLE(arg), b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
        try:
            _write_bulk(out, text, strlen(text))
        finally:
            PyMem_Free(text)
        return 0
    if kind is bytearray:
        return _write_bulk(out, PyByteArray_AS_STRING(arg), PyByteArray_GET_SIZE(arg))
    return _append_slow(out, arg, index, encoding, errors, number)


cdef int _append_command(Out* out, object args, object encoding, object errors, bint utf8,
                         Py_ssize_t number) except -1:
    cdef Py_ssize_t index = 0
    if type(args) is tuple or type(args) is list:
        if Py_SIZE(args) == 0:
            raise _DataError(f"{_where(number)}empty command: the server would never answer it")
        _write_header(out, 42, Py_SIZE(args))
        while index < Py_SIZE(args):  # a list may shrink under a str subclass's encode()
            _append_arg(out, args[index], index, encoding, errors, utf8, number)
            index += 1
        return 0
    if not args:
        raise _DataError(f"{_where(number)}empty command: the server would never answer it")
    _write_header(out, 42, len(args))
    for arg in args:
        _append_arg(out, arg, index, encoding, errors, utf8, number)
        index += 1
    return 0


cdef str _where(Py_ssize_t number):
    """Error message prefix: which command of a batch (none for a single command)."""
    return "" if number < 0 else f"command {number}: "


cdef inline bint _is_utf8(object encoding):
    return type(encoding) is str and encoding in ("utf-8", "utf8", "UTF-8", "UTF8")


def encode_command(*args, encoding="utf-8", errors="strict"):
    """Encode one command as a RESP array of bulk strings.

    Raises DataError (naming the argument's position and type) for anything but bytes,
    bytearray, memoryview, str, int or float; bool is refused, since ``True`` is not a
    value Redis knows. Nothing is returned unless every argument encoded.
    """
    cdef char local[512]
    cdef Out out
    out.data = local
    out.size = 0
    out.cap = sizeof(local)
    out.heap = False
    try:
        _append_command(&out, args, encoding, errors, _is_utf8(encoding), -1)
        return PyBytes_FromStringAndSize(out.data, out.size)
    finally:
        if out.heap:
            PyMem_Free(out.data)


def pack_commands(commands, encoding="utf-8", errors="strict"):
    """Encode many commands into one buffer, for one write. All or nothing."""
    cdef char local[4096]
    cdef Out out
    cdef Py_ssize_t number = 0
    cdef bint utf8 = _is_utf8(encoding)
    out.data = local
    out.size = 0
    out.cap = sizeof(local)
    out.heap = False
    try:
        for args in commands:
            _append_command(&out, args, encoding, errors, utf8, number)
            number += 1
        return PyBytes_FromStringAndSize(out.data, out.size)
    finally:
        if out.heap:
            PyMem_Free(out.data)

