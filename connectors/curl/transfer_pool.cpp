#include "connectors/curl/transfer_pool.h"

#include <pthread.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sunbeam {
namespace {

// curl_global_init is not thread-safe in every build of libcurl; once per process.
void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

// Threads: `mutex` guards `queued`, `stopping` and `exited`; everything else is
// touched only by the pool's thread (and by the destructor once it has joined).
struct TransferPool::Impl {
  Options options;
  CURLM* multi = nullptr;
  std::thread thread;
  std::thread::id worker;  // set once, before anything can be submitted
  std::atomic<std::uint64_t> connections{0};

  std::mutex mutex;
  std::deque<std::unique_ptr<CurlTransfer>> queued;
  bool stopping = false;
  bool exited = false;  // the thread has left its loop: submit() finishes at once

  std::mutex stop_mutex;  // one stop() joins; others wait for it
  std::unordered_map<CURL*, std::unique_ptr<CurlTransfer>> running;
  std::vector<CURL*> idle;  // reset on reuse; the connections live in `multi`

  explicit Impl(Options o) : options(std::move(o)) {
    if (options.concurrency < 1) options.concurrency = 1;
    global_init_once();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, long(options.concurrency));
    // The connection cache: one per transfer slot, so none is closed for want of room.
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long(options.concurrency));
  }

  ~Impl() {
    for (CURL* easy : idle) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
  }

  // A handle at libcurl's defaults, plus NOSIGNAL: without it every transfer
  // with a time-out installs signal handlers (and burns CPU under the multi).
  CURL* acquire() {
    CURL* easy = nullptr;
    if (!idle.empty()) {
      easy = idle.back();
      idle.pop_back();
      curl_easy_reset(easy);
    } else {
      easy = curl_easy_init();
    }
    if (easy) curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    return easy;
  }

  void release(CURL* easy) { idle.push_back(easy); }

  // A transfer that never ran still gets a (fresh) handle to query in finish().
  void abort(std::unique_ptr<CurlTransfer> t) {
    CURL* easy = acquire();
    t->finish(CURLE_ABORTED_BY_CALLBACK, easy);
    t.reset();
    if (easy) release(easy);
  }

  // Moves queued transfers into the multi while there is room; once stopping,
  // finishes them as aborted instead. Returns false when the loop may end.
  bool start_queued() {
    for (;;) {
      std::unique_ptr<CurlTransfer> next;
      bool aborting = false;
      {
        std::lock_guard lock(mutex);
        if (queued.empty()) {
          if (stopping && running.empty()) {
            exited = true;
            return false;
          }
          return true;
        }
        if (!stopping && int(running.size()) >= options.concurrency) return true;
        aborting = stopping;
        next = std::move(queued.front());
        queued.pop_front();
      }
      // Outside the lock: finish() and prepare() may submit() again.
      if (aborting) {
        abort(std::move(next));
        continue;
      }
      CURL* easy = acquire();
      if (!easy) {
        next->finish(CURLE_OUT_OF_MEMORY, nullptr);
        continue;
      }
      next->prepare(easy);
      if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
        next->finish(CURLE_FAILED_INIT, easy);
        release(easy);
        continue;
      }
      running.emplace(easy, std::move(next));
    }
  }

  // Finishes every completed transfer; true if any did (slots are free).
  bool reap() {
    bool any = false;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* easy = m->easy_handle;
      const CURLcode result = m->data.result;  // read before the handle is removed
      curl_multi_remove_handle(multi, easy);
      long opened = 0;
      if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK && opened > 0)
        connections.fetch_add(std::uint64_t(opened), std::memory_order_relaxed);
      auto it = running.find(easy);
      std::unique_ptr<CurlTransfer> t = std::move(it->second);
      running.erase(it);
      t->finish(result, easy);
      t.reset();  // its buffers go before the handle that pointed at them is reused
      release(easy);
      any = true;
    }
    return any;
  }

  void run() {
    const std::string thread_name = ("curl:" + options.name).substr(0, 15);
    pthread_setname_np(pthread_self(), thread_name.c_str());
    while (start_queued()) {
      int still_running = 0;
      curl_multi_perform(multi, &still_running);
      if (reap()) continue;  // start what waited for a slot before sleeping
      // Woken by curl_multi_wakeup (submit, stop) or by socket activity; the
      // time-out only bounds the wait should a wakeup ever be missed.
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
  }
};

TransferPool::TransferPool(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
  impl_->worker = impl_->thread.get_id();
}

TransferPool::~TransferPool() { stop(); }

void TransferPool::submit(std::unique_ptr<CurlTransfer> transfer) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->exited) {
      impl_->queued.push_back(std::move(transfer));
      curl_multi_wakeup(impl_->multi);  // safe from any thread
      return;
    }
  }
  // Stopped: nothing will run it, so it finishes here, on the caller's thread.
  CURL* easy = curl_easy_init();
  if (easy) curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  transfer->finish(CURLE_ABORTED_BY_CALLBACK, easy);
  transfer.reset();
  if (easy) curl_easy_cleanup(easy);
}

void TransferPool::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    curl_multi_wakeup(impl_->multi);
  }
  // From a completion (the pool's own thread) there is nothing to wait for:
  // the loop ends by itself once the running transfers are done.
  if (std::this_thread::get_id() == impl_->worker) return;
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint64_t TransferPool::connections_opened() const { return impl_->connections.load(std::memory_order_relaxed); }

}  // namespace sunbeam
