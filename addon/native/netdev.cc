// moveNetDevice(nsFd, name, newName) -> final name: linux.netDevices of the
// OCI config (config-linux.md, "Network Devices"). The host device `name`
// moves into the network namespace open at nsFd as `newName` (one "%d" lets
// the first free number be picked), its permanent global addresses are
// added again there (a move flushes them) and it is set up. Plain rtnetlink,
// no libnl/libmnl.
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <napi.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "netdev.h"

namespace {

// As ThrowErrno (errors.h), but with the whole message given: it may end
// with the kernel's extended-ack text rather than strerror.
Napi::Value Throw(Napi::Env env, int err, const std::string &message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("errno", Napi::Number::New(env, err));
  const char *name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "UNKNOWN"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// A request being built: header, fixed part, attributes.
struct Request {
  alignas(nlmsghdr) char buf[1024] = {};
  bool overflow = false;
  Request(uint16_t type, uint16_t flags, const void *fixed, size_t len) {
    hdr()->nlmsg_type = type;
    hdr()->nlmsg_flags = flags;
    hdr()->nlmsg_len = NLMSG_LENGTH(len);
    memcpy(NLMSG_DATA(hdr()), fixed, len);
  }
  nlmsghdr *hdr() { return reinterpret_cast<nlmsghdr *>(buf); }
  void Put(uint16_t type, const void *data, size_t len) {
    size_t at = NLMSG_ALIGN(hdr()->nlmsg_len);
    if (at + RTA_SPACE(len) > sizeof buf) {
      overflow = true;
      return;
    }
    rtattr *a = reinterpret_cast<rtattr *>(buf + at);
    a->rta_type = type;
    a->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    memcpy(RTA_DATA(a), data, len);
    hdr()->nlmsg_len = static_cast<uint32_t>(at + RTA_ALIGN(a->rta_len));
  }
};

// Calls f on each attribute after a message's fixed part of `fixed` bytes.
void ForAttrs(const nlmsghdr *h, size_t fixed, const std::function<void(const rtattr *)> &f) {
  if (h->nlmsg_len < NLMSG_SPACE(fixed)) return;
  int rest = static_cast<int>(h->nlmsg_len - NLMSG_SPACE(fixed));
  for (auto *a = reinterpret_cast<const rtattr *>(reinterpret_cast<const char *>(h) + NLMSG_SPACE(fixed)); RTA_OK(a, rest);
       a = RTA_NEXT(a, rest))
    f(a);
}

// The errno of an NLMSG_ERROR (0 for an ACK), its extended-ack text in ext.
int AckError(const nlmsghdr *h, std::string &ext) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return EBADMSG;
  auto *e = static_cast<const nlmsgerr *>(NLMSG_DATA(h));
  if (e->error >= 0) return e->error ? EPROTO : 0;
  if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
    // The TLVs follow the echoed request, whose payload is left out when capped.
    size_t off = NLMSG_LENGTH(sizeof *e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += static_cast<size_t>(e->msg.nlmsg_len) - NLMSG_HDRLEN;
    off = NLMSG_ALIGN(off);
    if (off < h->nlmsg_len) {
      int rest = static_cast<int>(h->nlmsg_len - off);
      for (auto *a = reinterpret_cast<const rtattr *>(reinterpret_cast<const char *>(h) + off); RTA_OK(a, rest); a = RTA_NEXT(a, rest))
        if (a->rta_type == NLMSGERR_ATTR_MSG)
          ext.assign(static_cast<const char *>(RTA_DATA(a)), strnlen(static_cast<const char *>(RTA_DATA(a)), RTA_PAYLOAD(a)));
    }
  }
  return -e->error;
}

// A NETLINK_ROUTE socket, in the namespace of the thread that opened it.
class Rtnl {
 public:
  explicit Rtnl(int fd) : fd_(fd) {}
  ~Rtnl() {
    if (fd_ >= 0) close(fd_);
  }
  Rtnl(const Rtnl &) = delete;
  Rtnl &operator=(const Rtnl &) = delete;
  // -errno when it could not be opened.
  int fd() const { return fd_; }

  static int Open() {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);  // best effort: only adds text
    return fd;
  }

  // One request with NLM_F_ACK: each message answering it goes to `each`,
  // until the ACK or, for a dump, NLMSG_DONE. Returns 0 or an errno, with
  // the kernel's own explanation in ext when it gave one.
  int Call(Request &req, const std::function<void(const nlmsghdr *)> &each, std::string &ext) {
    if (req.overflow) return EMSGSIZE;
    nlmsghdr *n = req.hdr();
    n->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    n->nlmsg_seq = ++seq_;
    sockaddr_nl kernel = {};
    kernel.nl_family = AF_NETLINK;
    ssize_t r;
    do r = sendto(fd_, n, n->nlmsg_len, 0, reinterpret_cast<sockaddr *>(&kernel), sizeof kernel);
    while (r < 0 && errno == EINTR);
    if (r < 0) return errno;
    // A dump part is at most 32 KiB (the kernel sizes them by our reads).
    std::vector<char> buf(32768);
    for (;;) {
      sockaddr_nl from = {};
      socklen_t from_len = sizeof from;
      do r = recvfrom(fd_, buf.data(), buf.size(), MSG_TRUNC, reinterpret_cast<sockaddr *>(&from), &from_len);
      while (r < 0 && errno == EINTR);
      if (r < 0) return errno;
      if (static_cast<size_t>(r) > buf.size()) return EMSGSIZE;
      if (from.nl_pid != 0) continue;  // not from the kernel
      int len = static_cast<int>(r);
      for (auto *h = reinterpret_cast<const nlmsghdr *>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != n->nlmsg_seq) continue;  // late answer to an earlier request
        if (h->nlmsg_type == NLMSG_ERROR) return AckError(h, ext);
        if (h->nlmsg_type == NLMSG_DONE) {
          int err = 0;  // a dump that failed midway says so here
          if (h->nlmsg_len >= NLMSG_LENGTH(sizeof err)) memcpy(&err, NLMSG_DATA(h), sizeof err);
          return err < 0 ? -err : 0;
        }
        each(h);
      }
    }
  }

 private:
  int fd_;
  uint32_t seq_ = 0;
};

// A socket in the namespace open at ns_fd: opened on a thread of its own
// that enters the namespace and ends, as Node's threads must stay in theirs.
// The socket stays in the namespace it was made in.
struct OpenIn {
  int ns_fd;
  const char *step;
  int fd;
};

void *OpenInThread(void *arg) {
  auto *o = static_cast<OpenIn *>(arg);
  o->step = "enter the namespace";
  if (setns(o->ns_fd, CLONE_NEWNET) < 0) {
    o->fd = -errno;
    return nullptr;
  }
  o->step = "netlink socket in the namespace";
  o->fd = Rtnl::Open();
  return nullptr;
}

// pthread rather than std::thread: the addon is built without exceptions,
// and a thread that cannot be made (EAGAIN under a pids limit) must be an
// error, not an abort.
int OpenRtnlIn(int ns_fd, const char **step) {
  OpenIn o{ns_fd, "start a thread", -EBADF};
  pthread_t t;
  int err = pthread_create(&t, nullptr, OpenInThread, &o);
  if (err) {
    *step = o.step;
    return -err;
  }
  pthread_join(t, nullptr);
  *step = o.step;
  return o.fd;
}

// As the kernel's dev_valid_name; checked first, since the kernel checks a
// new name only after the move.
bool ValidName(const std::string &name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  return name.find_first_of("/: \t\n\v\f\r") == std::string::npos;
}

// The index of the device called `name`, 0 if there is none.
int LinkIndex(Rtnl &nl, const std::string &name, int *index, std::string &ext) {
  *index = 0;
  ifinfomsg ifi = {};
  Request req(RTM_GETLINK, 0, &ifi, sizeof ifi);
  req.Put(IFLA_IFNAME, name.c_str(), name.size() + 1);
  int err = nl.Call(req, [&](const nlmsghdr *h) {
    if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof ifi))
      *index = static_cast<const ifinfomsg *>(NLMSG_DATA(h))->ifi_index;
  }, ext);
  if (err == ENODEV) ext.clear();
  return err == ENODEV ? 0 : err;
}

// The addresses to keep (whole RTM_NEWADDR messages): permanent ones of
// global scope, of any family, as the spec asks; the others belong to the
// host's network (link-local, autoconfigured, leased).
int PermanentAddrs(Rtnl &nl, int index, std::vector<std::vector<char>> &out, std::string &ext) {
  ifaddrmsg ifa = {};
  ifa.ifa_family = AF_UNSPEC;
  Request req(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  return nl.Call(req, [&](const nlmsghdr *h) {
    if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof ifa)) return;
    auto *a = static_cast<const ifaddrmsg *>(NLMSG_DATA(h));
    if (static_cast<int>(a->ifa_index) != index || a->ifa_scope != RT_SCOPE_UNIVERSE) return;
    uint32_t flags = a->ifa_flags;  // IFA_FLAGS, when there, has all 32 bits
    ForAttrs(h, sizeof ifa, [&](const rtattr *r) {
      if (r->rta_type == IFA_FLAGS && RTA_PAYLOAD(r) >= sizeof flags) memcpy(&flags, RTA_DATA(r), sizeof flags);
    });
    if (flags & IFA_F_PERMANENT) out.emplace_back(reinterpret_cast<const char *>(h), reinterpret_cast<const char *>(h) + h->nlmsg_len);
  }, ext);
}

// The name the device gets in the namespace. A "%d" pattern is resolved
// here, to the first free number as the kernel would, so that the device
// can then be found by name: its ifindex changes when the namespace has a
// device with the same one. EEXIST when a plain name is taken.
int PickName(Rtnl &nl, const std::string &pattern, std::string *out, std::string &ext) {
  size_t pc = pattern.find('%');
  if (pc == std::string::npos) {
    int index, err = LinkIndex(nl, pattern, &index, ext);
    *out = pattern;
    return err ? err : index ? EEXIST : 0;
  }
  if (pattern.compare(pc, 2, "%d") != 0 || pattern.find('%', pc + 1) != std::string::npos) return EINVAL;
  for (int i = 0; i < 32768; i++) {
    *out = pattern.substr(0, pc) + std::to_string(i) + pattern.substr(pc + 2);
    if (out->size() >= IFNAMSIZ) return EINVAL;
    int index, err = LinkIndex(nl, *out, &index, ext);
    if (err || !index) return err;
  }
  return ENFILE;  // as the kernel's dev_alloc_name
}

}  // namespace

Napi::Value MoveNetDevice(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int ns_fd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>();
  std::string new_name = info[2].As<Napi::String>();
  if (new_name.empty()) new_name = name;
  std::string what = "move network device " + name + ": ", ext;
  auto fail = [&](int err, const std::string &step) {
    return Throw(env, err, what + step + ": " + strerror(err) + (ext.empty() ? "" : " (" + ext + ")"));
  };
  if (!ValidName(name)) return fail(EINVAL, "invalid name");
  if (!ValidName(new_name)) return fail(EINVAL, "invalid new name " + new_name);

  Rtnl host(Rtnl::Open());
  if (host.fd() < 0) return fail(-host.fd(), "netlink socket");
  int index, err;
  if ((err = LinkIndex(host, name, &index, ext))) return fail(err, "find it");
  if (!index) return Throw(env, ENODEV, "network device " + name + " not found");
  std::vector<std::vector<char>> addrs;
  if ((err = PermanentAddrs(host, index, addrs, ext))) return fail(err, "list its addresses");

  // Opened before the move: the namespace's socket is how we find the
  // device there, and a name taken there must fail before the move, since
  // the kernel moves the device first and then fails to rename it.
  const char *step = "";
  Rtnl ns(OpenRtnlIn(ns_fd, &step));
  if (ns.fd() < 0) return fail(-ns.fd(), step);
  std::string target;
  err = PickName(ns, new_name, &target, ext);
  if (err == EEXIST) return Throw(env, EEXIST, "network device " + target + " already exists in the container's network namespace");
  if (err) return fail(err, "name it " + new_name);

  ifinfomsg ifi = {};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  Request move(RTM_NEWLINK, 0, &ifi, sizeof ifi);
  uint32_t fd32 = static_cast<uint32_t>(ns_fd);
  move.Put(IFLA_NET_NS_FD, &fd32, sizeof fd32);
  move.Put(IFLA_IFNAME, target.c_str(), target.size() + 1);
  auto ignore = [](const nlmsghdr *) {};
  if ((err = host.Call(move, ignore, ext))) return fail(err, "move it to the namespace as " + target);

  what = "move network device " + name + " (now " + target + " in the container): ";
  int ns_index;
  if ((err = LinkIndex(ns, target, &ns_index, ext)) || !ns_index) return fail(err ? err : ENODEV, "find it");
  for (auto &m : addrs) {
    auto *h = reinterpret_cast<const nlmsghdr *>(m.data());
    ifaddrmsg ifa;
    memcpy(&ifa, NLMSG_DATA(h), sizeof ifa);
    ifa.ifa_index = static_cast<uint32_t>(ns_index);
    Request add(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof ifa);
    // All but the label (the old name; the kernel uses the device's) and the
    // lifetimes (left out they are infinite, i.e. permanent).
    ForAttrs(h, sizeof ifa, [&](const rtattr *r) {
      if (r->rta_type != IFA_LABEL && r->rta_type != IFA_CACHEINFO) add.Put(r->rta_type, RTA_DATA(r), RTA_PAYLOAD(r));
    });
    if ((err = ns.Call(add, ignore, ext))) return fail(err, "add an address");
  }
  ifi = {};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ns_index;
  ifi.ifi_flags = ifi.ifi_change = IFF_UP;
  Request up(RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if ((err = ns.Call(up, ignore, ext))) return fail(err, "set it up");
  return Napi::String::New(env, target);
}
