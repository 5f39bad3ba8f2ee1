// Directory load: seconds and peak RSS to load N subscribers and M holdings
// from CSV, each run in a fresh child process (so peak RSS is the load's
// own), against a baseline measured in the same run: reading the same files
// and counting their lines (the I/O floor).
//
//   bench_directory [--subscribers N] [--holdings M] [--runs R] [--dir DIR] [--keep 1]
//
// --keep 1 keeps the generated files in DIR and reuses them on the next run
// with the same sizes (generating 10M + 50M rows takes longer than loading them).
//
// Prints one line per run, a summary with medians, spread and ratios, and last
// one JSON line with every run's figures (for bench/run.py).
#include "bench/common/generated_subscribers.h"
#include "config/config.h"
#include "engine/directory/directory.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace sunbeam;

namespace {

struct Options {
  long subscribers = 1'000'000;
  long holdings = 5'000'000;
  int runs = 3;
  fs::path dir = fs::temp_directory_path() / "sunbeam-bench-directory";
  bool keep = false;
};

Config bench_config() {
  Config c;
  c.tiers = {"advisor", "research", "basic"};
  for (const char* t : {"notice", "stock_pick", "rating_change"}) {
    EventTypeConfig e;
    e.name = t;
    c.event_types.push_back(e);
  }
  return c;
}

// Deterministic, realistic rows: Chinese and English names, mainland mobiles, e-mails.
void generate(const Options& o) {
  fs::create_directories(o.dir);
  std::mt19937_64 rng(42);
  {
    std::ofstream out(o.dir / "subscribers.csv");
    out << bench::subscribers_csv_header;
    for (long i = 0; i < o.subscribers; ++i) bench::write_subscriber_row(out, i, rng);
  }
  std::ofstream out(o.dir / "holdings.csv");
  out << "account_id,symbol\n";
  for (long i = 0; i < o.holdings; ++i) {
    const long code = 600000 + long(rng() % 4000);
    out << 'C' << long(rng() % std::uint64_t(o.subscribers)) << ',' << code << ".SH\n";
  }
}

struct Sample {
  double seconds = 0;
  long peak_rss_kib = 0;
};

// Runs `work` in a child process; its wall time and peak RSS.
template <class F>
Sample in_child(F work) {
  int pipefd[2];
  if (pipe(pipefd) != 0) std::exit(1);
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    const auto start = std::chrono::steady_clock::now();
    work();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (write(pipefd[1], &s, sizeof s) != sizeof s) _exit(2);
    _exit(0);
  }
  close(pipefd[1]);
  Sample out;
  if (read(pipefd[0], &out.seconds, sizeof out.seconds) != sizeof out.seconds) std::exit(1);
  close(pipefd[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  out.peak_rss_kib = usage.ru_maxrss;
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--subscribers") o.subscribers = std::atol(argv[i + 1]);
    else if (flag == "--holdings") o.holdings = std::atol(argv[i + 1]);
    else if (flag == "--runs") o.runs = std::atoi(argv[i + 1]);
    else if (flag == "--dir") o.dir = argv[i + 1];
    else if (flag == "--keep") o.keep = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "usage: bench_directory [--subscribers N] [--holdings M] [--runs R] [--dir DIR] [--keep 1]\n");
      return 2;
    }
  }
  const fs::path sizes = o.dir / "sizes";
  const std::string want = std::to_string(o.subscribers) + " " + std::to_string(o.holdings);
  std::string have;
  if (o.keep) std::getline(std::ifstream(sizes) >> std::ws, have);
  if (have == want) {
    std::printf("reusing %ld subscribers and %ld holdings in %s\n", o.subscribers, o.holdings, o.dir.c_str());
  } else {
    std::printf("generating %ld subscribers and %ld holdings in %s\n", o.subscribers, o.holdings, o.dir.c_str());
    fs::remove(sizes);
    generate(o);
    if (o.keep) std::ofstream(sizes) << want << '\n';
  }
  const Config config = bench_config();
  DirectoryConfig files{o.dir / "subscribers.csv", o.dir / "holdings.csv", {}};

  std::vector<double> load_s, base_s, load_rss;
  for (int r = 0; r < o.runs; ++r) {
    const Sample base = in_child([&] {
      long lines = 0;
      std::vector<char> buf(1 << 20);
      for (const auto& f : {files.subscribers, files.holdings}) {
        std::ifstream in(f, std::ios::binary);
        while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0)
          lines += std::count(buf.begin(), buf.begin() + in.gcount(), '\n');
      }
      if (lines == 0) std::abort();
    });
    const Sample load = in_child([&] {
      auto d = load_directory(files, config);
      if (d.directory.size() != std::size_t(o.subscribers) || !d.problems.empty()) {
        std::fprintf(stderr, "unexpected: %zu subscribers, %zu problems\n", d.directory.size(), d.problems.size());
        std::abort();
      }
    });
    std::printf("run %d: load %.2f s, peak RSS %.0f MiB; baseline read %.2f s\n", r + 1, load.seconds,
                load.peak_rss_kib / 1024.0, base.seconds);
    load_s.push_back(load.seconds);
    base_s.push_back(base.seconds);
    load_rss.push_back(double(load.peak_rss_kib) / 1024.0);
  }
  const auto spread = [](const std::vector<double>& v) {
    return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
  };
  std::printf("summary: %ld subscribers, %ld holdings, %d runs: load median %.2f s (spread %.2f), peak RSS median %.0f MiB "
              "(spread %.0f); baseline read median %.2f s; load / baseline %.1fx\n",
              o.subscribers, o.holdings, o.runs, median(load_s), spread(load_s), median(load_rss), spread(load_rss),
              median(base_s), median(load_s) / median(base_s));
  const auto list = [](const std::vector<double>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
    return out + "]";
  };
  std::printf("{\"subscribers\": %ld, \"holdings\": %ld, \"load_seconds\": %s, \"peak_rss_mib\": %s, "
              "\"baseline_seconds\": %s}\n",
              o.subscribers, o.holdings, list(load_s).c_str(), list(load_rss).c_str(), list(base_s).c_str());
  if (!o.keep) fs::remove_all(o.dir);
  return 0;
}
