// Asynchronous libcurl transfers for the gateway connectors (sms_http, kannel,
// smtp): one thread drives a curl multi handle, runs up to `concurrency`
// transfers at once and keeps connections alive in the multi's cache, so
// consecutive sends to one gateway reuse them. Callers never block: submit()
// queues and returns; each transfer's finish() runs on the pool's thread.
//
// Written on libcurl's multi interface rather than on Asio so that HTTP and
// SMTP (which Beast does not speak) share one engine with one set of
// time-out, keep-alive and TLS behaviours.
//
// Lifecycle: construct, submit() from any thread, stop() (or destroy): running
// transfers finish or time out, queued ones finish with CURLE_ABORTED_BY_CALLBACK,
// and so does anything submitted after the pool has stopped (then on the
// caller's thread). Never destroy a pool from one of its own completions.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>

namespace sunbeam {

// One transfer: sets up an easy handle, then learns how it ended. Owns the
// buffers the handle points at (body, headers, MIME), which live until finish().
class CurlTransfer {
 public:
  virtual ~CurlTransfer() = default;
  // Sets this transfer's options on `easy` (already reset to defaults, with
  // NOSIGNAL set). Runs on the pool's thread just before the transfer starts.
  virtual void prepare(CURL* easy) = 0;
  // How it ended: CURLE_OK or the error, with `easy` still valid to query
  // (CURLINFO_RESPONSE_CODE, ...). Called exactly once, on the pool's thread
  // (on submit()'s caller for a transfer submitted after stop()).
  virtual void finish(CURLcode result, CURL* easy) = 0;
};

class TransferPool {
 public:
  struct Options {
    std::string name;     // for logs and the thread's name
    int concurrency = 4;  // transfers at once, and connections kept per host
  };

  explicit TransferPool(Options options);
  ~TransferPool();  // stop()
  TransferPool(const TransferPool&) = delete;
  TransferPool& operator=(const TransferPool&) = delete;

  void submit(std::unique_ptr<CurlTransfer> transfer);
  // Idempotent; waits for the running transfers unless called from a completion.
  void stop();

  // Connections libcurl has opened so far (the sum of CURLINFO_NUM_CONNECTS):
  // with keep-alive, one gateway costs at most `concurrency` however many
  // transfers ran, unless the gateway closed some.
  std::uint64_t connections_opened() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sunbeam
