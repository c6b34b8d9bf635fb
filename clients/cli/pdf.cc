#include "clients/cli/pdf.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace attribution::cli {
namespace {

bool Executable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::string> FindChromium(absl::string_view given) {
  if (!given.empty()) {
    if (Executable(std::string(given))) return std::string(given);
    return absl::NotFoundError(
        absl::StrCat("--chromium: ", given, " is not an executable"));
  }
  if (const char* env = std::getenv("CHROMIUM"); env != nullptr && *env) {
    if (Executable(env)) return std::string(env);
    return absl::NotFoundError(
        absl::StrCat("$CHROMIUM: ", env, " is not an executable"));
  }
  const char* path = std::getenv("PATH");
  for (const char* name : {"chromium", "chromium-browser", "google-chrome",
                           "google-chrome-stable"}) {
    for (absl::string_view dir : absl::StrSplit(path ? path : "", ':')) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (!dir.empty() && Executable(candidate)) return candidate;
    }
  }
  return absl::NotFoundError(
      "--pdf needs Chromium: install Debian's chromium package (apt-get "
      "install chromium) or name one with --chromium PATH");
}

int PdfPageCount(absl::string_view pdf) {
  int pages = 0;
  for (size_t at = pdf.find("/Type"); at != absl::string_view::npos;
       at = pdf.find("/Type", at + 5)) {
    size_t i = at + 5;
    while (i < pdf.size() && (pdf[i] == ' ' || pdf[i] == '\n' ||
                              pdf[i] == '\r' || pdf[i] == '\t')) {
      ++i;
    }
    if (pdf.substr(i, 5) == "/Page" &&
        (i + 5 >= pdf.size() ||
         !std::isalnum(static_cast<unsigned char>(pdf[i + 5])))) {
      ++pages;
    }
  }
  return pages;
}

absl::StatusOr<int> PrintToPdf(const std::string& chromium,
                               absl::string_view html,
                               const std::string& pdf_path,
                               int timeout_seconds) {
  namespace fs = std::filesystem;
  std::string dir_template =
      (fs::temp_directory_path() / "attributionctl-pdf-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    return absl::InternalError("cannot make a temporary folder for Chromium");
  }
  const fs::path dir(dir_template);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  const fs::path page = dir / "page.html";
  {
    std::ofstream out(page, std::ios::binary);
    out << html;
    if (!out) return absl::InternalError("cannot write the page for Chromium");
  }
  const std::string absolute_pdf = fs::absolute(pdf_path).string();
  std::error_code ec;
  fs::remove(absolute_pdf, ec);
  std::vector<std::string> args = {
      chromium,
      "--headless",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-quic",
      absl::StrCat("--user-data-dir=", (dir / "profile").string()),
      "--no-pdf-header-footer",
      absl::StrCat("--print-to-pdf=", absolute_pdf),
  };
  // Chromium's sandbox refuses to run as root.
  if (geteuid() == 0) args.push_back("--no-sandbox");
  args.push_back(absl::StrCat("file://", page.string()));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string log = (dir / "chromium.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid;
  const int spawned = posix_spawn(&pid, chromium.c_str(), &actions, nullptr,
                                  argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", chromium));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_seconds);
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(absl::StrCat(
          chromium, " did not print the page within ", timeout_seconds, " s"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  const std::string pdf = ReadFile(absolute_pdf);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || pdf.empty()) {
    std::string said = ReadFile(log);
    if (said.size() > 2000) said = said.substr(said.size() - 2000);
    return absl::InternalError(absl::StrCat(
        chromium, " did not print the page (exit ",
        WIFEXITED(status) ? WEXITSTATUS(status) : -1, "): ", said));
  }
  return PdfPageCount(pdf);
}

}  // namespace attribution::cli
