#include "connectors/smtp/smtp_connector.h"

#include "connectors/connector_options.h"
#include "connectors/failure.h"
#include "engine/core/masking.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace sunbeam {
namespace {

// One mail in flight: owns everything the easy handle points at (the data,
// the recipient list, the error buffer) until finish().
class SmtpTransfer final : public CurlTransfer {
 public:
  SmtpTransfer(std::shared_ptr<const SmtpSettings> settings, ComposedMail mail, SendCompletion done)
      : settings_(std::move(settings)), mail_(std::move(mail)), done_(std::move(done)) {}

  ~SmtpTransfer() override {
    if (recipients_) curl_slist_free_all(recipients_);
  }

  void prepare(CURL* easy) override {
    const SmtpSettings& s = *settings_;
    recipients_ = curl_slist_append(nullptr, mail_.rcpt_to.c_str());
    curl_easy_setopt(easy, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, mail_.mail_from.c_str());
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, recipients_);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &SmtpTransfer::read);
    curl_easy_setopt(easy, CURLOPT_READDATA, this);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail_.data.size()));
    curl_easy_setopt(easy, CURLOPT_USE_SSL, static_cast<long>(s.tls));
    if (!s.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, s.ca_file.c_str());
    if (!s.tls_verify) {
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!s.username.empty()) {
      curl_easy_setopt(easy, CURLOPT_USERNAME, s.username.c_str());
      curl_easy_setopt(easy, CURLOPT_PASSWORD, s.password.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer_);
    // The debug stream is the only place libcurl says which command a reply
    // answered (its error codes do not tell a refused RCPT from a refused
    // MAIL): on_debug keeps the last command's verb and the last reply line.
    curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, &SmtpTransfer::on_debug);
    curl_easy_setopt(easy, CURLOPT_DEBUGDATA, this);
    curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
  }

  void finish(CURLcode result, CURL* easy) override {
    long reply = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply);
    // Replies often echo the recipient; records mask personal data.
    std::string reply_text = last_reply_;
    for (std::size_t at; (at = reply_text.find(mail_.rcpt_to)) != std::string::npos;)
      reply_text.replace(at, mail_.rcpt_to.size(), mask_email(mail_.rcpt_to));
    SendOutcome outcome = smtp_outcome(result, reply, last_command_, "connector " + settings_->name, reply_text);
    if (outcome.accepted()) {
      outcome.gateway_message_id = mail_.message_id;
    } else if (reply < 400 && error_buffer_[0] && outcome.error.find(error_buffer_) == std::string::npos) {
      outcome.error += std::string(" (") + error_buffer_ + ")";
    }
    if (recipients_) curl_slist_free_all(recipients_);
    recipients_ = nullptr;
    done_(std::move(outcome));
  }

 private:
  static std::size_t read(char* buffer, std::size_t size, std::size_t count, void* self) {
    auto* t = static_cast<SmtpTransfer*>(self);
    const std::size_t n = std::min(size * count, t->mail_.data.size() - t->sent_);
    std::memcpy(buffer, t->mail_.data.data() + t->sent_, n);
    t->sent_ += n;
    return n;
  }

  static int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* self) {
    auto* t = static_cast<SmtpTransfer*>(self);
    const std::string_view text(data, size);
    if (type == CURLINFO_HEADER_OUT) {
      // Exact command prefixes: AUTH continuation lines are base64, which has
      // neither spaces nor colons, so a credential never matches.
      // After a refusal libcurl closes the connection with QUIT, within this
      // transfer: its "221 Bye" must not hide the refusal.
      if (text.starts_with("QUIT")) t->quitting_ = true;
      else if (text.starts_with("MAIL FROM:")) t->last_command_ = SmtpCommand::mail;
      else if (text.starts_with("RCPT TO:")) t->last_command_ = SmtpCommand::rcpt;
      else if (text.starts_with("DATA\r\n")) t->last_command_ = SmtpCommand::data;
      else t->last_command_ = SmtpCommand::session;
    } else if (type == CURLINFO_HEADER_IN && !t->quitting_ && !text.empty() && text[0] >= '2' && text[0] <= '5') {
      t->last_reply_.assign(text.substr(0, text.find_first_of("\r\n")));
    }
    return 0;
  }

  std::shared_ptr<const SmtpSettings> settings_;
  ComposedMail mail_;
  SendCompletion done_;
  curl_slist* recipients_ = nullptr;
  std::size_t sent_ = 0;
  SmtpCommand last_command_ = SmtpCommand::session;
  bool quitting_ = false;
  std::string last_reply_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

}  // namespace

Result<SmtpSettings> read_smtp_settings(const ConnectorConfig& config) {
  const ConnectorOptions options(config);
  if (auto r = options.only({"from", "message_id_domain", "tls", "ca_file", "tls_verify", "username", "password"});
      !r)
    return r.error();
  SmtpSettings s;
  s.name = config.name;
  s.url = config.endpoint;
  s.timeout = config.timeout;
  s.concurrency = config.concurrency;
  const bool implicit_tls = s.url.starts_with("smtps://");
  if (!(s.url.starts_with("smtp://") || implicit_tls) || s.url.find_first_not_of("/", s.url.find(':') + 1) == std::string::npos)
    return options.error("endpoint \"" + s.url + "\" is not an SMTP URL (write e.g. smtp://mail.example.com:587)");

  auto from = options.required("from");
  if (!from) return from.error();
  auto mailbox = parse_mailbox(*from);
  if (!mailbox) return options.error("from: " + mailbox.error().message);
  s.mail.from = std::move(*mailbox);

  auto domain = options.get("message_id_domain");
  if (!domain) return domain.error();
  if (!domain->empty() && !is_host_name(*domain))
    return options.error("message_id_domain: \"" + *domain + "\" is not a host name");
  s.mail.message_id_domain = *domain;

  auto tls = options.get("tls", "try");
  if (!tls) return tls.error();
  if (*tls == "try") s.tls = CURLUSESSL_TRY;
  else if (*tls == "required") s.tls = CURLUSESSL_ALL;
  else if (*tls == "none") s.tls = CURLUSESSL_NONE;
  else return options.error("tls: \"" + *tls + "\" is not one of try, required, none");
  if (implicit_tls && s.tls == CURLUSESSL_NONE)
    return options.error("tls: none contradicts the smtps:// endpoint, which is TLS from the start");

  auto verify = options.get("tls_verify", "true");
  if (!verify) return verify.error();
  if (*verify != "true" && *verify != "false") return options.error("tls_verify: write true or false");
  s.tls_verify = *verify == "true";

  auto ca = options.get("ca_file");
  if (!ca) return ca.error();
  if (!ca->empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*ca, ec)) return options.error("ca_file: " + *ca + " is not a readable file");
  }
  s.ca_file = *ca;

  auto username = options.get("username");
  if (!username) return username.error();
  auto password = options.get("password");
  if (!password) return password.error();
  if (username->empty() != password->empty())
    return options.error("username and password go together (AUTH needs both, or neither for no AUTH)");
  s.username = *username;
  s.password = *password;
  return s;
}

Result<std::unique_ptr<Connector>> SmtpConnector::create(const ConnectorConfig& config) {
  static const SystemClock system_clock;
  auto settings = read_smtp_settings(config);
  if (!settings) return settings.error();
  return std::unique_ptr<Connector>(new SmtpConnector(std::move(*settings), system_clock));
}

SmtpConnector::SmtpConnector(SmtpSettings settings, const Clock& clock)
    : settings_(std::make_shared<const SmtpSettings>(std::move(settings))),
      clock_(clock),
      pool_(TransferPool::Options{settings_->name, settings_->concurrency}) {}

SmtpConnector::~SmtpConnector() { stop(); }

void SmtpConnector::stop() { pool_.stop(); }

void SmtpConnector::send(OutboundMessage msg, SendCompletion done) {
  auto mail = compose_mail(msg, settings_->mail, clock_.now());
  if (!mail) {
    // Refused before any connection: a `to` that is not one plain address is
    // this recipient's fault; anything else is the message's.
    const FailureClass c = mail.error().code == "recipient" ? FailureClass::recipient : FailureClass::message;
    done(SendOutcome::fail(c, "connector " + settings_->name + ": " + mail.error().message));
    return;
  }
  pool_.submit(std::make_unique<SmtpTransfer>(settings_, std::move(*mail), std::move(done)));
}

}  // namespace sunbeam
