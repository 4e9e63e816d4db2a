/*
 * acd native UDP reader (Linux): a thread per socket reads datagrams with recvmmsg(2) into a ring
 * shared with JavaScript, so that datagrams keep being taken off the kernel's socket buffer while
 * the event loop is paused (garbage collection, decode batches). JavaScript is woken through a
 * thread-safe function, at most once per drain (the wake-up is coalesced with an atomic flag), and
 * takes whole batches out of the ring. A full ring drops the datagram and counts it: the thread never
 * waits for JavaScript.
 *
 * Ring layout (the JavaScript side, src/collect/input/udp-native.ts, reads the same layout): records
 * aligned to 8 bytes, each a 40-byte header then the payload:
 *   0  u32 record size in bytes (header + payload, rounded up to 8); RING_WRAP: skip to offset 0
 *   4  u32 payload length
 *   8  f64 receive time, CLOCK_MONOTONIC milliseconds
 *  16  u16 source port, u8 family (4 or 6), u8 reserved
 *  20  u32 IPv6 scope id
 *  24  16 bytes source address (IPv4 in the first 4, network byte order)
 *  40  payload
 * Positions (head, tail) grow without wrapping (64-bit); the offset is position modulo ring size.
 * The producer publishes `head` with release order after writing a record; JavaScript reads it with
 * acquire order (through `acquire()`), and gives space back with `release(tail)`.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEADER_BYTES 40u
#define RING_WRAP 0xFFFFFFFFu
/* Datagrams taken per recvmmsg call: amortises the system call without holding records back. */
#define BATCH 64
/* Staging space per datagram: the largest UDP payload (65,507 bytes over IPv4) fits. */
#define SLOT_BYTES 65536
/*
 * Nice value asked for the reading thread. It only weighs the thread against the other threads of
 * the process (decoder, garbage collector) within its scheduling group: the kernel's socket buffer
 * holds tens of milliseconds of traffic, and our own decoding must not starve the thread that
 * empties it. Needs CAP_SYS_NICE (or RLIMIT_NICE); without it the thread keeps the default.
 */
#define READER_NICE (-10)
/*
 * JavaScript is woken when this many datagrams wait, or when the oldest has waited this long:
 * one wake-up (and one drain with its fixed costs) per datagram would cost more than the datagram.
 */
#define NOTIFY_DATAGRAMS 256
#define NOTIFY_DELAY_MS 1.0
/*
 * Pause after a read that found fewer than BATCH datagrams. At 4 M records/s the kernel buffer
 * (4 MiB) holds more than 10 ms, so 200 µs costs nothing in loss and saves most system calls.
 */
#define READ_PAUSE_US 200
/* Smallest ring accepted: a maximal datagram and its header must always fit. */
#define MIN_RING_BYTES (1u << 20)

typedef struct reader {
  int fd;
  int efd;
  uint8_t *ring;
  uint64_t size;
  _Atomic uint64_t head;
  _Atomic uint64_t tail;
  _Atomic int notify_pending;
  _Atomic int stopping;
  _Atomic uint64_t datagrams;
  _Atomic uint64_t bytes;
  _Atomic uint64_t dropped;
  _Atomic uint64_t errors;
  uint8_t *staging;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage addrs[BATCH];
  napi_threadsafe_function tsfn;
  napi_ref ring_ref;
  pthread_t thread;
  int thread_started;
  int closed;
  int nice_ok;
  _Atomic int started;
} reader_t;

static double monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline uint64_t align8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

/* Copies one received datagram into the ring, or counts it as dropped when there is no room. */
static void put(reader_t *r, uint64_t *head, uint64_t tail, const struct mmsghdr *m,
                const uint8_t *payload, double now) {
  uint32_t len = m->msg_len;
  uint64_t rec = align8(HEADER_BYTES + len);
  uint64_t off = *head % r->size;
  uint64_t skip = off + rec > r->size ? r->size - off : 0;
  if ((m->msg_hdr.msg_flags & MSG_TRUNC) || r->size - (*head - tail) < skip + rec) {
    atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
    return;
  }
  if (skip) {
    memcpy(r->ring + off, &(uint32_t){RING_WRAP}, 4);
    *head += skip;
    off = 0;
  }
  uint8_t *h = r->ring + off;
  uint32_t rec32 = (uint32_t)rec;
  memcpy(h, &rec32, 4);
  memcpy(h + 4, &len, 4);
  memcpy(h + 8, &now, 8);
  memset(h + 16, 0, 24);
  const struct sockaddr *sa = m->msg_hdr.msg_name;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    uint16_t port = ntohs(a->sin_port);
    memcpy(h + 16, &port, 2);
    h[18] = 4;
    memcpy(h + 24, &a->sin_addr, 4);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    uint16_t port = ntohs(a->sin6_port);
    uint32_t scope = a->sin6_scope_id;
    memcpy(h + 16, &port, 2);
    h[18] = 6;
    memcpy(h + 20, &scope, 4);
    memcpy(h + 24, &a->sin6_addr, 16);
  }
  memcpy(h + HEADER_BYTES, payload, len);
  *head += rec;
}

/* Wakes JavaScript unless a wake-up is already pending (it then sees everything up to head). */
static void notify(reader_t *r) {
  if (!atomic_exchange(&r->notify_pending, 1))
    napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking);
}

static void *run(void *arg) {
  reader_t *r = arg;
  int failures = 0;
  /* Datagrams put in the ring since JavaScript was last woken, and when the first of them came. */
  uint64_t unnotified = 0;
  double since = 0;
  r->nice_ok = setpriority(PRIO_PROCESS, (id_t)gettid(), READER_NICE) == 0;
  atomic_store(&r->started, 1);
  for (;;) {
    struct pollfd p[2] = {{.fd = r->fd, .events = POLLIN}, {.fd = r->efd, .events = POLLIN}};
    struct timespec wait = {0, 0};
    if (unnotified) {
      double left = since + NOTIFY_DELAY_MS - monotonic_ms();
      if (left > 0) wait.tv_nsec = (long)(left * 1e6);
    }
    if (ppoll(p, 2, unnotified ? &wait : NULL, NULL) < 0 && errno != EINTR) break;
    if (atomic_load(&r->stopping)) break;
    int got = 0;
    while (!atomic_load_explicit(&r->stopping, memory_order_relaxed)) {
      for (int i = 0; i < BATCH; i++) {
        r->msgs[i].msg_hdr.msg_namelen = sizeof(r->addrs[i]);
        r->msgs[i].msg_hdr.msg_flags = 0;
      }
      int n = recvmmsg(r->fd, r->msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        /* ICMP-induced and similar errors do not stop the reader; a persistent one must not spin. */
        atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
        if (++failures > 3) nanosleep(&(struct timespec){0, 1000000}, NULL);
        break;
      }
      failures = 0;
      double now = monotonic_ms();
      uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
      uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
      uint64_t bytes = 0;
      for (int i = 0; i < n; i++) {
        put(r, &head, tail, &r->msgs[i], r->staging + (size_t)i * SLOT_BYTES, now);
        bytes += r->msgs[i].msg_len;
      }
      atomic_fetch_add_explicit(&r->datagrams, (uint64_t)n, memory_order_relaxed);
      atomic_fetch_add_explicit(&r->bytes, bytes, memory_order_relaxed);
      atomic_store(&r->head, head);
      if (n > 0 && unnotified == 0) since = now;
      unnotified += (uint64_t)n;
      got += n;
      if (n < BATCH) break;
    }
    if (unnotified && (unnotified >= NOTIFY_DATAGRAMS || monotonic_ms() - since >= NOTIFY_DELAY_MS)) {
      notify(r);
      unnotified = 0;
    }
    /* Traffic is flowing but the socket is empty: let a few datagrams gather rather than waking
     * (and making two system calls) for each one as it arrives. */
    if (got > 0 && got < BATCH) nanosleep(&(struct timespec){0, READ_PAUSE_US * 1000}, NULL);
  }
  return NULL;
}

/* Throws a JavaScript Error whose `code` is the errno name (EADDRINUSE, ...). */
static void throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  const char *name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, name ? name : "EIO", msg);
}

/* Stops the thread, closes the descriptors and lets go of the ring and the callback. */
static void shut(napi_env env, reader_t *r) {
  if (r->closed) return;
  r->closed = 1;
  atomic_store(&r->stopping, 1);
  if (r->thread_started) {
    uint64_t one = 1;
    ssize_t w = write(r->efd, &one, sizeof one);
    (void)w;
    pthread_join(r->thread, NULL);
  }
  if (r->fd >= 0) close(r->fd);
  if (r->efd >= 0) close(r->efd);
  r->fd = r->efd = -1;
  if (r->tsfn) napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
  r->tsfn = NULL;
  if (env && r->ring_ref) napi_delete_reference(env, r->ring_ref);
  r->ring_ref = NULL;
  free(r->staging);
  r->staging = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  reader_t *r = data;
  shut(env, r);
  free(r);
}

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, "ERR_NATIVE_UDP", "node-api call failed: " #call);                     \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

static reader_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_NATIVE_UDP", "not a reader handle");
    return NULL;
  }
  return p;
}

/* open(ring: ArrayBuffer, family: 4|6, host: string, port: number, rcvbuf: number, onReadable) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, "ERR_NATIVE_UDP", "open(ring, family, host, port, rcvbuf, onReadable)");
    return NULL;
  }
  void *ring = NULL;
  size_t ring_len = 0;
  bool is_ab = false;
  CHECK(napi_is_arraybuffer(env, argv[0], &is_ab));
  if (!is_ab) {
    napi_throw_type_error(env, "ERR_NATIVE_UDP", "ring must be an ArrayBuffer");
    return NULL;
  }
  CHECK(napi_get_arraybuffer_info(env, argv[0], &ring, &ring_len));
  if (ring_len < MIN_RING_BYTES || ring_len % 8 != 0) {
    napi_throw_range_error(env, "ERR_NATIVE_UDP", "ring must be a multiple of 8 bytes and at least 1 MiB");
    return NULL;
  }
  int32_t family = 4, port = 0, rcvbuf = 0;
  char host[INET6_ADDRSTRLEN + 64];
  size_t host_len = 0;
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_string_utf8(env, argv[2], host, sizeof host, &host_len));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  CHECK(napi_get_value_int32(env, argv[4], &rcvbuf));
  if (port < 0 || port > 65535 || (family != 4 && family != 6)) {
    napi_throw_range_error(env, "ERR_NATIVE_UDP", "bad family or port");
    return NULL;
  }

  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = family == 6 ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  char service[8];
  snprintf(service, sizeof service, "%d", port);
  int gai = getaddrinfo(host, service, &hints, &ai);
  if (gai != 0 || ai == NULL) {
    napi_throw_error(env, "EINVAL", "not a numeric address");
    return NULL;
  }

  reader_t *r = calloc(1, sizeof *r);
  if (!r) {
    freeaddrinfo(ai);
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  r->fd = r->efd = -1;
  r->ring = ring;
  r->size = ring_len;
  r->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int err = 0;
  const char *what = "socket";
  if (r->fd < 0) err = errno;
  int one = 1;
  if (!err && family == 6 && setsockopt(r->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    err = errno, what = "setsockopt IPV6_V6ONLY";
  if (!err && rcvbuf > 0 && setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
    err = errno, what = "setsockopt SO_RCVBUF";
  if (!err && bind(r->fd, ai->ai_addr, ai->ai_addrlen) < 0) err = errno, what = "bind";
  freeaddrinfo(ai);
  if (!err && (r->efd = eventfd(0, EFD_CLOEXEC)) < 0) err = errno, what = "eventfd";
  if (!err && !(r->staging = malloc((size_t)BATCH * SLOT_BYTES))) err = ENOMEM, what = "malloc";
  if (err) {
    shut(env, r);
    free(r);
    throw_errno(env, what, err);
    return NULL;
  }
  for (int i = 0; i < BATCH; i++) {
    r->iov[i].iov_base = r->staging + (size_t)i * SLOT_BYTES;
    r->iov[i].iov_len = SLOT_BYTES;
    r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->addrs[i];
  }

  napi_value name;
  napi_value handle;
  if (napi_create_reference(env, argv[0], 1, &r->ring_ref) != napi_ok ||
      napi_create_string_utf8(env, "acd-udp-reader", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, argv[5], NULL, name, 0, 1, NULL, NULL, NULL, NULL,
                                      &r->tsfn) != napi_ok) {
    shut(env, r);
    free(r);
    napi_throw_error(env, "ERR_NATIVE_UDP", "cannot create the wake-up callback");
    return NULL;
  }
  if ((err = pthread_create(&r->thread, NULL, run, r)) != 0) {
    shut(env, r);
    free(r);
    throw_errno(env, "pthread_create", err);
    return NULL;
  }
  r->thread_started = 1;
  if (napi_create_external(env, r, finalize, NULL, &handle) != napi_ok) {
    shut(env, r);
    free(r);
    napi_throw_error(env, "ERR_NATIVE_UDP", "cannot create the handle");
    return NULL;
  }
  return handle;
}

static napi_value set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
  return obj;
}

/* info(handle) -> { address, port, rcvbuf } (rcvbuf as getsockopt reports it). */
static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  if (r->closed) {
    napi_throw_error(env, "ERR_NATIVE_UDP", "reader is closed");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int rcv = 0;
  socklen_t rl = sizeof rcv;
  if (getsockname(r->fd, (struct sockaddr *)&ss, &sl) < 0) {
    throw_errno(env, "getsockname", errno);
    return NULL;
  }
  if (getsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &rl) < 0) {
    throw_errno(env, "getsockopt SO_RCVBUF", errno);
    return NULL;
  }
  char text[INET6_ADDRSTRLEN];
  int port;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  }
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v));
  set_prop(env, obj, "address", v);
  CHECK(napi_create_int32(env, port, &v));
  set_prop(env, obj, "port", v);
  CHECK(napi_create_int32(env, rcv, &v));
  set_prop(env, obj, "rcvbuf", v);
  /* Whether the thread got its priority (known once it runs; false before). */
  CHECK(napi_get_boolean(env, atomic_load(&r->started) && r->nice_ok, &v));
  set_prop(env, obj, "priority", v);
  return obj;
}

/*
 * acquire(handle, out: Float64Array(6)): re-arms the wake-up, then writes
 * [head, now (monotonic ms), datagrams, bytes, dropped, errors] into `out`.
 */
static napi_value js_acquire(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL));
  if (type != napi_float64_array || length < 6) {
    napi_throw_type_error(env, "ERR_NATIVE_UDP", "out must be a Float64Array of 6");
    return NULL;
  }
  double *out = data;
  /* Sequentially consistent with the producer's store of head then exchange of the flag, so
   * either this read sees the new head or the producer sees the cleared flag and wakes us. */
  atomic_store(&r->notify_pending, 0);
  out[0] = (double)atomic_load(&r->head);
  out[1] = monotonic_ms();
  out[2] = (double)atomic_load_explicit(&r->datagrams, memory_order_relaxed);
  out[3] = (double)atomic_load_explicit(&r->bytes, memory_order_relaxed);
  out[4] = (double)atomic_load_explicit(&r->dropped, memory_order_relaxed);
  out[5] = (double)atomic_load_explicit(&r->errors, memory_order_relaxed);
  return NULL;
}

/* release(handle, tail): the ring up to position `tail` may be reused. */
static napi_value js_release(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  double tail = 0;
  CHECK(napi_get_value_double(env, argv[1], &tail));
  uint64_t t = (uint64_t)tail;
  if (t > atomic_load(&r->head) || t < atomic_load(&r->tail)) {
    napi_throw_range_error(env, "ERR_NATIVE_UDP", "release beyond the ring's bounds");
    return NULL;
  }
  atomic_store_explicit(&r->tail, t, memory_order_release);
  return NULL;
}

/* close(handle): stops and joins the thread, closes the socket; idempotent. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap(env, argv[0]);
  if (!r) return NULL;
  shut(env, r);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL},
      {"acquire", NULL, js_acquire, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value v;
  napi_create_uint32(env, HEADER_BYTES, &v);
  napi_set_named_property(env, exports, "headerBytes", v);
  napi_create_uint32(env, MIN_RING_BYTES, &v);
  napi_set_named_property(env, exports, "minRingBytes", v);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
