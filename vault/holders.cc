#include "vault/holders.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/descriptors.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/unique_fd.h"

namespace tazpod::vault {

namespace {

// What the kernel already knows of the file a /proc link names (a
// process's working directory, root or descriptor): its device, and its
// type and inode number when known (0 otherwise), without asking the file
// system. A stat would ask a FUSE server (or an NFS one) for fresh
// attributes, and one that hangs would hold the search in a wait that not
// even SIGKILL ends: FUSE waits out a request its server has read. None of
// these change, so what is cached is enough. Nothing is requested
// (mask 0), so that FUSE gives the device even of a mount that refuses
// this process its attributes. False, with errno, when the link cannot be
// followed. A plain stat where statx is missing or refused (a seccomp
// profile older than it, which allows stat).
bool StatCached(const std::string& path, struct stat* st) {
  struct statx stx;
  if (statx(AT_FDCWD, path.c_str(), AT_STATX_DONT_SYNC, 0, &stx) != 0)
    return (errno == ENOSYS || errno == EPERM) && stat(path.c_str(), st) == 0;
  std::memset(st, 0, sizeof *st);
  st->st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  if (stx.stx_mask & STATX_TYPE) st->st_mode = stx.stx_mode;
  if (stx.stx_mask & STATX_INO) st->st_ino = stx.stx_ino;
  return true;
}

bool OnDevice(const std::string& path, dev_t dev) {
  struct stat st;
  return StatCached(path, &st) && st.st_dev == dev;
}

// The "MAJ:MIN" device number that follows the first `skip` spaces of a
// /proc line, written in `base`, or nullopt if the line is not in that shape.
// /proc/PID/maps: "address perms offset MAJ:MIN inode path" (hex);
// /proc/PID/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (decimal).
std::optional<dev_t> DeviceField(std::string_view line, int skip, int base) {
  std::size_t field = 0;
  for (int i = 0; i < skip; ++i) {
    field = line.find(' ', field);
    if (field == std::string_view::npos) return std::nullopt;
    ++field;
  }
  const char* end = line.data() + line.size();
  unsigned maj = 0, min = 0;
  auto [after_maj, e1] = std::from_chars(line.data() + field, end, maj, base);
  if (e1 != std::errc() || after_maj == end || *after_maj != ':') return std::nullopt;
  auto [after_min, e2] = std::from_chars(after_maj + 1, end, min, base);
  if (e2 != std::errc()) return std::nullopt;
  return makedev(maj, min);
}

// The /proc directories of the threads of `pid` (/proc/PID/task/TID). A
// thread may have a working directory, a root, a descriptor table, and a
// mount or network namespace of its own (unshare(2) in one thread), and
// once the main thread has exited /proc/PID shows none of the others'.
// Just /proc/PID when the thread list cannot be read. Threads that share
// one descriptor table each have it searched: the search runs only when the
// vault is busy, and thoroughness is the point.
std::vector<std::string> ThreadDirs(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::vector<std::string> dirs;
  if (DIR* tasks = opendir((base + "/task").c_str())) {
    while (struct dirent* e = readdir(tasks)) {
      if (e->d_name[0] != '.') dirs.push_back(base + "/task/" + e->d_name);
    }
    closedir(tasks);
  }
  if (dirs.empty()) dirs.push_back(base);
  return dirs;
}

// Adds to `found` the inodes of the Unix sockets of this thread's network
// namespace that are bound to a name on the file system on `dev`, as the
// kernel's sock_diag lists them (`ss -x` asks the same). The kernel keeps
// the bound name's path, which pins the mount, yet the process's descriptor
// is a socket, on sockfs: an agent that binds its socket in the vault
// (gpg-agent with GNUPGHOME in ~/secrets, `ssh-agent -a
// ~/secrets/agent.sock`) and leaves everything else would hold the vault
// unseen. Adds nothing when the kernel cannot tell (no unix_diag): those
// holders then go unfound, as before.
void AddUnixSocketsBoundOn(dev_t dev, std::set<ino_t>* found) {
  UniqueFd nl(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl) return;
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } ask{};
  ask.header.nlmsg_len = sizeof ask;
  ask.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  ask.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  ask.request.sdiag_family = AF_UNIX;
  ask.request.udiag_states = ~0u;  // listening, connected, any
  ask.request.udiag_show = UDIAG_SHOW_VFS;
  if (send(nl.get(), &ask, sizeof ask, 0) != static_cast<ssize_t>(sizeof ask)) return;
  alignas(nlmsghdr) char buffer[32 * 1024];
  for (;;) {
    ssize_t n = recv(nl.get(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    int unread = static_cast<int>(n);  // signed: NLMSG_NEXT may take it below 0, and NLMSG_OK must see that
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, unread); h = NLMSG_NEXT(h, unread)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) continue;
      const auto* socket_info = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
      int left = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(unix_diag_msg)));
      for (auto* a = reinterpret_cast<rtattr*>(const_cast<unix_diag_msg*>(socket_info) + 1); RTA_OK(a, left);
           a = RTA_NEXT(a, left)) {
        if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(unix_diag_vfs)) continue;
        unix_diag_vfs vfs;
        std::memcpy(&vfs, RTA_DATA(a), sizeof vfs);
        // The kernel's own device encoding: 12 bits of major above 20 of minor.
        if (makedev(vfs.udiag_vfs_dev >> 20, vfs.udiag_vfs_dev & 0xfffff) == dev) found->insert(socket_info->udiag_ino);
      }
    }
  }
}

// Whether any line of the /proc file `path` has `dev` in its device field
// (see DeviceField for `skip` and `base`), or nullopt when the file shows
// no line (unreadable, or nothing to show).
std::optional<bool> ProcFileNamesDevice(const std::string& path, int skip, int base, dev_t dev) {
  std::ifstream in(path);
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    any = true;
    if (DeviceField(line, skip, base) == dev) return true;
  }
  return any ? std::optional<bool>(false) : std::nullopt;
}

// The rest of the line of `dir`/status (a /proc directory) that starts
// with `key` ("Uid:"), or nullopt.
std::optional<std::string> StatusLine(const std::string& dir, std::string_view key) {
  std::ifstream in(dir + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return std::nullopt;
}

// Whether the thread whose /proc directory is `dir` maps a file of the
// file system on `dev` (its text, a library), or nullopt when its maps show
// nothing: the threads of a process share one memory, yet an exited main
// thread shows none of it.
std::optional<bool> MapsDevice(const std::string& dir, dev_t dev) {
  return ProcFileNamesDevice(dir + "/maps", 3, 16, dev);
}

// Looking into another user's /proc/PID/{fd,cwd,root,maps,ns} passes the
// kernel's ptrace access check with CAP_SYS_PTRACE, which Docker does not
// grant by default, or with file-system ids equal to the process's (not
// for a process that is not dumpable or is in a user namespace of its own:
// only CAP_SYS_PTRACE passes there, and without it such a process goes
// unseen). So the look at a thread (its /proc directory: `dir`) is taken
// with the fsuid and fsgid that own its fd directory (CAP_SETUID and
// CAP_SETGID are in Docker's defaults), and root's are restored after it.
// That directory is root's, mode 0500, when the process is not dumpable
// (or the thread has no memory left: it has exited): then root looks,
// since root's fsuid keeps CAP_DAC_OVERRIDE, which a switched one drops.
// (/proc/PID itself, mode 0555, keeps the process's uid either way.) The
// helper is single-threaded: the ids are per thread.
//
// Every change of the file-system ids makes the kernel set the process's
// dumpable flag to fs.suid_dumpable (2 on hosts with apport): the flag the
// caller had (the helper's 0: it holds the passphrase) is set again after
// each change.
class LookingAs {
 public:
  explicit LookingAs(const std::string& dir) {
    struct stat st;
    if (stat((dir + "/fd").c_str(), &st) != 0 || st.st_uid == 0) return;
    dumpable_ = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    old_gid_ = static_cast<gid_t>(setfsgid(st.st_gid));
    old_uid_ = static_cast<uid_t>(setfsuid(st.st_uid));
    switched_ = true;
    KeepDumpable();
  }
  ~LookingAs() {
    if (!switched_) return;
    setfsuid(old_uid_);
    setfsgid(old_gid_);
    KeepDumpable();
  }
  LookingAs(const LookingAs&) = delete;
  LookingAs& operator=(const LookingAs&) = delete;

 private:
  void KeepDumpable() const {
    if (dumpable_ >= 0) (void)prctl(PR_SET_DUMPABLE, dumpable_, 0, 0, 0);
  }

  int dumpable_ = -1;  // the caller's, or -1 if it could not be read
  bool switched_ = false;
  uid_t old_uid_ = 0;
  gid_t old_gid_ = 0;
};

// Whether `pid` runs as a user other than root: its real uid, as this
// process's user namespace sees it (a process in a user namespace of its
// own shows its owner's uid here, not its own namespace's 0).
bool RunByUser(pid_t pid) {
  const std::optional<std::string> uids = StatusLine("/proc/" + std::to_string(pid), "Uid:");
  if (!uids) return false;
  const std::size_t first = uids->find_first_not_of(" \t");
  if (first == std::string::npos) return false;
  unsigned long uid = 0;
  const auto parsed = std::from_chars(uids->data() + first, uids->data() + uids->size(), uid);
  return parsed.ec == std::errc() && uid != 0;
}

// Whether the thread whose /proc directory is `dir` still has its memory:
// one that has exited (a main thread before the others, a zombie, one on
// its way out) shows none, and nothing of it can be looked into.
bool HasMemory(const std::string& dir) { return StatusLine(dir, "VmSize:").has_value(); }

// Says on stderr (PID 1's, so in its log), once per process, that the
// search could not look into `pid` (its thread whose /proc directory is
// `dir`: its files, its network namespace), so that the log tells why the
// lock's last resort (EndUserProcessesMounting) ran. The grace loop
// searches every 20 ms, hence once. Nothing is said for a thread that has
// exited. Only the pid: a process's name is its own to choose, newlines
// included, and this line is not escaped.
void SayUnseen(pid_t pid, const std::string& dir, int error) {
  static std::set<pid_t> said;
  // Root's processes (kernel threads, PID 1: more capabilities than the
  // helper has without CAP_SYS_PTRACE) are no business of the last resort.
  if (error == ENOENT || error == ESRCH || !RunByUser(pid) || !HasMemory(dir) || !said.insert(pid).second) return;
  (void)std::fprintf(stderr, "tazpod-vault-helper: cannot look into pid %d (%s)%s\n", static_cast<int>(pid),
                     std::strerror(error),
                     error == EACCES || error == EPERM
                         ? ": without CAP_SYS_PTRACE, a process that is not dumpable or is in a user namespace of "
                           "its own cannot be seen"
                         : "");
}

// Whether the thread whose /proc directory is `dir` (of process `pid`)
// works or is rooted on `dev`, or has a descriptor on it. `sockets`:
// UnixSocketsBoundOn(dev).
bool ThreadHolds(pid_t pid, const std::string& dir, dev_t dev, const std::set<ino_t>& sockets) {
  struct stat cwd;
  if (!StatCached(dir + "/cwd", &cwd)) {
    SayUnseen(pid, dir, errno);
  } else if (cwd.st_dev == dev) {
    return true;
  }
  if (OnDevice(dir + "/root", dev)) return true;
  DIR* fds = opendir((dir + "/fd").c_str());
  if (!fds) return false;
  bool found = false;
  while (struct dirent* e = readdir(fds)) {
    if (e->d_name[0] == '.') continue;
    struct stat st;
    if (!StatCached(dir + "/fd/" + e->d_name, &st)) continue;
    if (st.st_dev == dev || (S_ISSOCK(st.st_mode) && sockets.count(st.st_ino) != 0)) {
      found = true;
      break;
    }
  }
  closedir(fds);
  return found;
}

// `sockets`: UnixSocketsBoundOn(dev).
bool Holds(pid_t pid, dev_t dev, const std::set<ino_t>& sockets) {
  std::optional<bool> maps;
  for (const std::string& dir : ThreadDirs(pid)) {
    LookingAs owner(dir);
    if (ThreadHolds(pid, dir, dev, sockets)) return true;
    if (!maps) maps = MapsDevice(dir, dev);
  }
  return maps.value_or(false);
}

// The ids (mountinfo's first field) of the mounts of the file system on
// `dev` that the thread whose /proc directory is `dir` sees. A mount id is
// the kernel's, unique among all mounts: a copied namespace's mounts get
// new ones. (Not the namespace's inode in /proc/PID/ns/mnt: reading it
// passes the ptrace access check, which without CAP_SYS_PTRACE fails for a
// process that is not dumpable, and mountinfo is open to everyone.)
std::set<unsigned long> MountIdsOf(const std::string& dir, dev_t dev) {
  std::set<unsigned long> ids;
  std::ifstream in(dir + "/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (DeviceField(line, 2, 10) == dev) ids.insert(std::strtoul(line.c_str(), nullptr, 10));
  }
  return ids;
}

// Whether the mount namespace of any thread of `pid` has a mount of the
// file system on `dev`. /proc/PID/mountinfo is open to everyone: this
// sees the processes the holder search may not look into. It lists only
// the mounts under the thread's root, though.
bool MountsDevice(pid_t pid, dev_t dev) {
  for (const std::string& dir : ThreadDirs(pid)) {
    if (!MountIdsOf(dir, dev).empty()) return true;
  }
  return false;
}

// Whether `pid` mounts the file system on `dev` in a copy of the vault's
// mount namespace: a mount the caller's namespace does not have (`own`,
// the caller's MountIdsOf). The caller's own mount goes with its unmount,
// not with the processes that share it: ending those would end PID 1
// itself when they share the container's namespace
// (private_mount_namespace = false). PID 1 is never one to end, whatever
// its namespace.
bool MountsCopy(pid_t pid, dev_t dev, const std::set<unsigned long>& own) {
  if (pid == 1) return false;
  for (const std::string& dir : ThreadDirs(pid)) {  // a thread may have a namespace of its own
    for (unsigned long id : MountIdsOf(dir, dev)) {
      if (own.count(id) == 0) return true;
    }
  }
  return false;
}

// Calls `visit` with every process but the caller.
void ForEachOtherProcess(const std::function<void(pid_t)>& visit) {
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (!proc) return;
  while (struct dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    visit(static_cast<pid_t>(pid));
  }
  closedir(proc);
}

// A process a search found, pinned by a pidfd opened before it was looked
// at: a signal through it reaches that process or, if it has ended since,
// no one; never one that was given its pid meanwhile. Without a pidfd
// (pidfd_open is missing before Linux 5.3, refused by a seccomp profile
// older than it, or kept descriptors would run short) the signal goes by
// pid.
struct FoundProcess {
  pid_t pid;
  UniqueFd pidfd;
};

// ESRCH (it has ended) is no failure here.
void Signal(const FoundProcess& process, int signal) { (void)SendSignal(process.pid, process.pidfd.get(), signal); }

std::vector<pid_t> Pids(const std::vector<FoundProcess>& processes) {
  std::vector<pid_t> pids;
  pids.reserve(processes.size());
  for (const FoundProcess& process : processes) pids.push_back(process.pid);
  return pids;
}

// Descriptors a search leaves free when it pins what it finds: for its own
// reading of /proc (a directory, a file, the netlink socket, a namespace,
// each one at a time) and the unmount after it. A lock with thousands of
// the user's processes to end must not be left unable to look.
constexpr unsigned long kDescriptorsKeptFree = 64;

// Every process but the caller for which `matches` holds, each pinned
// (FoundProcess).
std::vector<FoundProcess> OtherProcessesWhere(const std::function<bool(pid_t)>& matches) {
  std::vector<FoundProcess> result;
  ForEachOtherProcess([&matches, &result](pid_t pid) {
    UniqueFd pidfd = OpenPidFd(pid);
    if (!pidfd && errno == ESRCH) return;  // ended since /proc was read
    if (!matches(pid)) return;
    if (pidfd && LeavesFewerThan(pidfd.get(), kDescriptorsKeptFree)) pidfd.Reset();
    result.push_back(FoundProcess{pid, std::move(pidfd)});
  });
  return result;
}

// A descriptor of the network namespace of the thread whose /proc directory
// is `dir`, opened as LookingAs says: /proc/PID/ns asks for the same access
// as /proc/PID/fd (so, for a process that is not dumpable or is in a user
// namespace of its own, CAP_SYS_PTRACE). On failure, `error` is open(2)'s
// errno.
UniqueFd OpenNetworkNamespaceOf(const std::string& dir, int* error) {
  LookingAs owner(dir);
  UniqueFd ns(open((dir + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  *error = errno;
  return ns;
}

// The inodes of the Unix sockets bound on `dev` (AddUnixSocketsBoundOn) in
// this thread's network namespace and in every one another process's
// thread is in.
// sock_diag lists a namespace's sockets only, and an agent in a namespace
// of its own (`unshare -Urn`, open to any user in a privileged container)
// would otherwise hold the vault unseen. Each namespace is entered once
// for its query and left at once, one descriptor at a time, so that many
// namespaces cannot use up the descriptors the search needs. The helper is
// single-threaded; setns moves only this thread.
std::set<ino_t> UnixSocketsBoundOn(dev_t dev) {
  std::set<ino_t> found;
  AddUnixSocketsBoundOn(dev, &found);
  UniqueFd own(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  struct stat own_stat;
  if (!own || fstat(own.get(), &own_stat) != 0) return found;
  std::set<std::pair<dev_t, ino_t>> seen = {{own_stat.st_dev, own_stat.st_ino}};
  bool home = true;
  ForEachOtherProcess([dev, &found, &own, &seen, &home](pid_t pid) {
    for (const std::string& dir : ThreadDirs(pid)) {
      if (!home) return;
      int error = 0;
      UniqueFd ns = OpenNetworkNamespaceOf(dir, &error);
      if (!ns) {
        SayUnseen(pid, dir, error);
        continue;
      }
      struct stat st;
      if (fstat(ns.get(), &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) continue;
      if (setns(ns.get(), CLONE_NEWNET) != 0) {
        SayUnseen(pid, dir, errno);
        continue;
      }
      AddUnixSocketsBoundOn(dev, &found);
      // The way back needs the rights the way in had, so it fails only for
      // want of memory; then no namespace is entered from a foreign one.
      home = setns(own.get(), CLONE_NEWNET) == 0;
    }
  });
  return found;
}

// SIGTERM to what `find` returns, up to `grace` for them to go, SIGKILL to
// the rest, then a moment for the kernel to let go of what they held.
std::vector<pid_t> EndProcesses(const std::function<std::vector<FoundProcess>()>& find,
                                std::chrono::milliseconds grace) {
  std::vector<FoundProcess> found = find();
  if (found.empty()) return {};
  for (const FoundProcess& process : found) Signal(process, SIGTERM);
  std::vector<pid_t> ended = Pids(found);
  found.clear();  // their pidfds: each look below pins what it finds anew
  // The helper runs off PID 1's loop, so a short sleep here blocks nobody.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline && !find().empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // SIGKILLed processes let go of their files when they are reaped or
  // become zombies; give the kernel a moment. Each look SIGKILLs what it
  // finds: a process may have started another meanwhile.
  for (int i = 0; i < 50; ++i) {
    const std::vector<FoundProcess> left = find();
    if (left.empty()) break;
    for (const FoundProcess& process : left) Signal(process, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ended;
}

std::vector<FoundProcess> Holding(dev_t dev) {
  const std::set<ino_t> sockets = UnixSocketsBoundOn(dev);
  return OtherProcessesWhere([dev, &sockets](pid_t pid) { return Holds(pid, dev, sockets); });
}

}  // namespace

std::vector<pid_t> ProcessesHolding(dev_t dev) { return Pids(Holding(dev)); }

std::vector<pid_t> ProcessesMounting(dev_t dev) {
  const std::set<unsigned long> own = MountIdsOf("/proc/self", dev);
  return Pids(OtherProcessesWhere([dev, &own](pid_t pid) { return MountsCopy(pid, dev, own); }));
}

std::vector<pid_t> EndHolders(dev_t dev, std::chrono::milliseconds grace) {
  return EndProcesses([dev] { return Holding(dev); }, grace);
}

std::vector<pid_t> EndHoldersAndMountCopies(dev_t dev, std::chrono::milliseconds grace) {
  return EndProcesses(
      [dev] {
        const std::set<ino_t> sockets = UnixSocketsBoundOn(dev);
        const std::set<unsigned long> own = MountIdsOf("/proc/self", dev);
        return OtherProcessesWhere(
            [dev, &own, &sockets](pid_t pid) { return MountsCopy(pid, dev, own) || Holds(pid, dev, sockets); });
      },
      grace);
}

std::vector<pid_t> EndUserProcessesMounting(dev_t dev, std::chrono::milliseconds grace) {
  return EndProcesses(
      [dev] { return OtherProcessesWhere([dev](pid_t pid) { return RunByUser(pid) && MountsDevice(pid, dev); }); },
      grace);
}

std::string DescribeProcess(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  // Each process names itself (PR_SET_NAME): escaped, since the lock's
  // error that carries it is printed on root's terminal.
  return "pid " + std::to_string(pid) + (name.empty() ? "" : " (" + EscapeUntrustedText(name) + ")");
}

}  // namespace tazpod::vault
