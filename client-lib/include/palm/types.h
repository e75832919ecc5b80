// Plain value types of Palm's C++ API: what an app passes in to record
// something, and the views it gets back. They mirror the wire contract
// (proto/palm/v1/case.proto) without exposing protobuf: enum values have
// the same numbers as their palm.v1 counterparts.
//
// Times are Unix milliseconds (UTC); money is in fen (1 yuan = 100 fen).
// All types are copyable values, thread-compatible.
#ifndef PALM_TYPES_H_
#define PALM_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "palm/export.h"

namespace palm {

// Lifecycle states (DESIGN.md §2), numbered as palm.v1.CaseState.
enum class CaseState : int {
  kUnspecified = 0,
  kRegistered = 1,
  kIssued = 2,
  kFiled = 3,
  kInvestigating = 4,
  kLegalReview = 5,
  kNotified = 6,
  kHearing = 7,
  kDecided = 8,
  kServed = 9,
  kExecuting = 10,
  kClosed = 11,
  kArchived = 12,
  kNotFiled = 13,
  kTransferred = 14,
  kNoPenalty = 15,
};

enum class Procedure : int { kUnspecified = 0, kSummary = 1, kOrdinary = 2 };

enum class PartyKind : int { kUnspecified = 0, kCitizen = 1, kOrganisation = 2 };

enum class EvidenceKind : int {
  kUnspecified = 0,
  kPhoto = 1,
  kVideo = 2,
  kAudio = 3,
  kDocument = 4,
  kRecord = 5,
};

enum class PenaltyKind : int { kUnspecified = 0, kWarning = 1, kFine = 2 };

enum class RemedyKind : int { kUnspecified = 0, kReconsideration = 1, kLitigation = 2 };

enum class PartySignature : int { kUnspecified = 0, kSigned = 1, kRefused = 2 };

// The ground of a no-penalty decision (Art. 33); docs/law.md says what each
// needs on record.
enum class NoPenaltyGround : int {
  kUnspecified = 0,
  kMinorCorrectedNoHarm = 1,      // ¶1: minor, corrected in time, no harm (must not penalise)
  kFirstViolationSlightHarm = 2,  // ¶1: first violation, slight harm, corrected in time
  kNoFault = 3,                   // ¶2: no fault, shown by evidence of the case
  kLegacy = 4,                    // recorded before the grounds were told apart
};

// The party's timely correction (及时改正) a ¶1 ground rests on.
struct NoPenaltyCorrection {
  std::string what;  // what the party did
  int64_t corrected_at_ms = 0;
  std::string verified_by;  // the officer (active, on the town's roster) who verified it
};

enum class CaseEventKind : int {
  kUnspecified = 0,
  kNote = 1,
  kNotification = 2,
  kService = 3,
  kPayment = 4,
  kTransition = 5,
  kReview = 6,
  kEvidenceWithdrawn = 7,
  kTicketVoided = 8,
  kCreated = 9,
  kStatement = 10,        // the party's statement or defence after the notice (Art. 45)
  kStatementWaived = 11,  // the party waived statement and defence
  kHandOver = 12,         // money collected on the spot handed to the agency (Art. 71)
};

// How a decision was served (Art. 61), numbered as palm.v1.ServiceMethod.
enum class ServiceMethod : int {
  kUnspecified = 0,
  kDirect = 1,         // 直接送达: the recipient signs the service receipt
  kLeftAtAddress = 2,  // 留置送达: refused; left with witnesses or on photo/video
  kPost = 3,           // 邮寄送达: served when signed for
  kElectronic = 4,     // 电子送达: to the address the party agreed to before
  kAnnouncement = 5,   // 公告送达: counts as served 30 days after publication
};

// The record of service of a decision, with its proof (docs/law.md, "Art.
// 61"). Every method cites evidence of the case as proof; each needs its
// own fields besides (see ServiceMethod and docs/integrating.md).
struct ServiceRecord {
  ServiceMethod method = ServiceMethod::kUnspecified;
  int64_t served_at_ms = 0;  // reached the recipient (announcement: published)
  std::string recipient;     // direct, left at the address
  std::vector<std::string> proof_evidence_ids;
  std::string tracking_number;     // post
  std::string electronic_address;  // electronic
  int64_t consent_at_ms = 0;       // electronic: the party's prior consent
  std::string witnesses;           // left at the address (or photo/video proof)
  std::string published_in;        // announcement
  std::string late_reason;         // served after the 7 working days: why
};

// How a fine was paid, numbered as palm.v1.PaymentChannel.
enum class PaymentChannel : int {
  kUnspecified = 0,
  kBank = 1,        // at the designated bank (Art. 67)
  kElectronic = 2,  // through the electronic payment system (Art. 67)
  kOnTheSpot = 3,   // collected by an officer (Art. 68-69), with the province's receipt
};

// The ground of an on-the-spot collection, numbered as
// palm.v1.CollectionGround.
enum class CollectionGround : int {
  kUnspecified = 0,
  kSmallFine = 1,            // Art. 68(1): 100 yuan or less, decided on the spot
  kHardToEnforceLater = 2,   // Art. 68(2): decided on the spot; ground_detail says why
  kRemoteAreaOnRequest = 3,  // Art. 69: at the party's request; ground_detail says where
};

// The record of a payment (docs/law.md, "Art. 66-72"). The amount is
// CaseEventInput::amount_fen; no more than is outstanding (the fine and any
// surcharge) is accepted.
struct PaymentRecord {
  PaymentChannel channel = PaymentChannel::kUnspecified;
  int64_t paid_at_ms = 0;
  std::string reference;  // bank voucher or transaction number
  // On the spot: the ground, its detail, and the receipt (Art. 70): an
  // 8-digit code (票据代码) and a 10-digit number (票据号码).
  CollectionGround ground = CollectionGround::kUnspecified;
  std::string ground_detail;
  std::string receipt_code;
  std::string receipt_number;
};

// Money collected on the spot handed to the agency (Art. 71: within 2
// working days).
struct HandOverRecord {
  int64_t handed_over_at_ms = 0;
  std::vector<std::string> payment_event_ids;  // the on-the-spot payments it covers
  std::string reference;                       // the agency's or bank's acknowledgement
  std::string late_reason;                     // after the 2 working days: why
};

// A clock the law runs on a case, numbered as palm.v1.ClockKind.
enum class ClockKind : int {
  kUnspecified = 0,
  kDecision = 1,          // decide within 90 days of filing (Art. 60)
  kService = 2,           // serve within 7 working days of the decision (Art. 61)
  kPayment = 3,           // the party pays within 15 days of service (Art. 67)
  kCourtEnforcement = 4,  // apply to the court in the 3 months after the remedies (Art. 72)
  kHandOver = 5,          // hand money collected on the spot over in 2 working days (Art. 71)
};

enum class ClockState : int {
  kUnspecified = 0,
  kRunning = 1,
  kDueSoon = 2,
  kDueToday = 3,
  kOverdue = 4,
};

// One running clock of a case (Client::ListDeadlines).
struct CaseClock {
  std::string case_id;
  std::string case_number;
  ClockKind kind = ClockKind::kUnspecified;
  std::string started_on;  // YYYY-MM-DD (Asia/Shanghai)
  std::string last_day;    // YYYY-MM-DD
  std::string opens_on;    // court enforcement: the window's first day
  ClockState state = ClockState::kUnspecified;
  int64_t days_left = 0;  // negative when overdue
  // Payment and court enforcement: the fine not yet paid and the late
  // surcharge accrued (Art. 72), computed on the day read. Hand-over: the
  // amount collected.
  int64_t outstanding_fen = 0;
  int64_t surcharge_fen = 0;
  std::string event_id;  // hand-over: the payment event it waits for
};

// What Client::ListDeadlines lists.
struct DeadlineQuery {
  // Clocks due within this many days, and every overdue one (1..366).
  int within_days = 7;
  // Every case on the device, not only the acting officer's.
  bool all_officers = false;
  // The day to read the clocks on, YYYY-MM-DD; empty: today (device clock).
  std::string as_of;
};

// Case fields that can be added or corrected after recording, numbered as
// palm.v1.CaseField. Values are text: see CaseFieldChange.
enum class CaseField : int {
  kUnspecified = 0,
  kDescription = 1,
  kAddress = 2,
  kLocation = 3,    // "lat,lng[,accuracy_m]"
  kOccurredAt = 4,  // decimal Unix milliseconds
  kMatterCode = 5,
  kProposedFine = 6,  // decimal fen
  kPartyName = 7,
  kPartyIdNumber = 8,
  kPartyPhone = 9,
  kPartyAddress = 10,
  kPartyKind = 11,  // decimal PartyKind number
};

struct GeoPoint {
  double latitude = 0;
  double longitude = 0;
  double accuracy_m = 0;  // 0 when unknown
};

struct Place {
  std::string address;
  GeoPoint location;
  std::string town_id;  // town or street (镇/街道) the place lies in
};

// A party (当事人). name, id_number, phone and address are personal data:
// the library encrypts them at rest.
struct Party {
  std::string party_id;  // empty on input: the library makes one
  PartyKind kind = PartyKind::kUnspecified;
  std::string name;
  std::string id_number;  // resident ID, or unified social credit code
  std::string phone;
  std::string address;
};

// What an officer records to open a case.
// Why the 2 years of Art. 36 do not bar a case, numbered as
// palm.v1.LimitationExceptionKind.
enum class LimitationException : int {
  kNone = 0,
  kLifeHealthFinance = 1,  // life, health or financial security harmed: 5 years
  kOtherLaw = 2,           // a law provides otherwise
};

struct CaseInput {
  std::string matter_code;
  Procedure procedure = Procedure::kUnspecified;
  std::string town_id;
  std::string squad_id;
  std::string description;
  Place place;
  int64_t occurred_at_ms = 0;            // 0: now
  std::vector<std::string> officer_ids;  // officers present; empty: the acting officer
  std::vector<Party> parties;
  int64_t proposed_fine_fen = 0;
  // Art. 36: a case is recorded within 2 years of the act, counted from
  // its end for a continuous or continuing act (act_ended_at_ms; 0: the act
  // is occurred_at_ms), unless the exception that applies is recorded with
  // what shows it (limitation_basis).
  int64_t act_ended_at_ms = 0;
  LimitationException limitation_exception = LimitationException::kNone;
  std::string limitation_basis;
};

// A case as the device holds it.
struct CaseRecord {
  std::string case_id;
  std::string case_number;  // empty until the server assigns it
  std::string matter_code;
  Procedure procedure = Procedure::kUnspecified;
  CaseState state = CaseState::kUnspecified;
  std::string town_id;
  std::string squad_id;
  std::string description;
  Place place;
  int64_t occurred_at_ms = 0;
  std::vector<std::string> officer_ids;
  std::vector<Party> parties;  // filled by GetCase, empty in ListCases
  std::string created_by_device;
  std::string created_by_officer;
  int64_t created_at_ms = 0;
  bool review_required = false;
  bool review_approved = false;
  int64_t proposed_fine_fen = 0;
  // When the case was filed (ordinary procedure) and decided, and the fine
  // decided; 0 until then. On the summary procedure the ticket is the
  // decision and its service (Art. 52).
  int64_t filed_at_ms = 0;
  int64_t decided_at_ms = 0;
  int64_t decided_fine_fen = 0;
  // The service of the decision, once recorded, and when it took effect.
  std::optional<ServiceRecord> service;
  int64_t service_effective_at_ms = 0;
  // The approved new last day to decide (Art. 60), YYYY-MM-DD; empty when
  // none.
  std::string decision_extended_to;
  // Everything paid on the fine so far (Art. 66-72); Client::ListDeadlines
  // says what is still outstanding, with the surcharge.
  int64_t paid_fen = 0;
};

// One correction or addition to a case (merged last-writer-wins by HLC on
// the server).
struct CaseFieldChange {
  CaseField field = CaseField::kUnspecified;
  std::string value;
  std::string party_id;  // for the party fields; a new id adds a party
};

// Metadata of a piece of evidence being attached.
struct EvidenceInput {
  std::string case_id;
  EvidenceKind kind = EvidenceKind::kUnspecified;
  std::string mime_type;
  int64_t captured_at_ms = 0;  // 0: now
  GeoPoint location;
  std::string description;
  // Where the content is kept for the later upload. Set by
  // AttachEvidenceFile; give it for streams and pre-hashed records.
  std::string content_path;
  // For Client::AddEvidenceRecord only: content already hashed elsewhere.
  std::string sha256_hex;
  uint64_t size_bytes = 0;
};

struct Evidence {
  std::string evidence_id;
  std::string case_id;
  EvidenceKind kind = EvidenceKind::kUnspecified;
  std::string mime_type;
  std::string sha256_hex;
  uint64_t size_bytes = 0;
  int64_t captured_at_ms = 0;
  GeoPoint location;
  std::string device_id;
  std::string officer_id;
  std::string description;
  std::string content_path;
  bool withdrawn = false;
  std::string withdraw_reason;
  bool uploaded = false;
  // The server's Merkle-log receipt (DESIGN.md §3.6): once it is here, the
  // record's registration can be proven offline (Client::ExportEvidenceReceipt,
  // `palmctl evidence verify`).
  bool has_receipt = false;
  uint64_t receipt_leaf_index = 0;
  uint64_t receipt_tree_size = 0;
  // Set by the server when the capture time is implausible (docs/evidence.md).
  bool capture_time_flagged = false;
  std::string capture_time_flag;
};

struct Remedy {
  RemedyKind kind = RemedyKind::kUnspecified;
  std::string body;  // where to apply, e.g. the county government
  // The time limit: 60 days for reconsideration, 6 months for litigation
  // (the law counts litigation in months, so a ticket says 6 in
  // deadline_months and 0 in deadline_days).
  int32_t deadline_days = 0;
  int32_t deadline_months = 0;
};

// An on-the-spot penalty decision (当场处罚决定书) to issue. The matter and the
// party kind come from the case; the number from the device's leased blocks.
struct TicketInput {
  std::string case_id;
  std::string party_id;
  std::string violation;
  // As the catalogue states them for the case's matter (Matter::legal_basis,
  // Matter::penalty_basis): another text is refused, legal_basis_mismatch
  // (Art. 38).
  std::string legal_basis;
  std::string penalty_basis;
  PenaltyKind penalty = PenaltyKind::kUnspecified;
  int64_t fine_fen = 0;
  bool mitigated = false;
  int64_t issued_at_ms = 0;  // 0: now
  Place place;
  std::vector<Remedy> remedies;
  std::string agency;
  std::vector<std::string> officer_ids;
  PartySignature party_signature = PartySignature::kUnspecified;
};

struct Ticket {
  std::string ticket_id;
  std::string case_id;
  int64_t ticket_number = 0;
  std::string ticket_number_text;
  std::string matter_code;
  std::string party_id;
  PartyKind party_kind = PartyKind::kUnspecified;
  std::string violation;
  std::string legal_basis;
  std::string penalty_basis;
  PenaltyKind penalty = PenaltyKind::kUnspecified;
  int64_t fine_fen = 0;
  bool mitigated = false;
  int64_t issued_at_ms = 0;
  Place place;
  std::vector<Remedy> remedies;
  std::string agency;
  std::vector<std::string> officer_ids;
  PartySignature party_signature = PartySignature::kUnspecified;
  std::string device_id;
  bool voided = false;
  std::string void_reason;
};

// A decision not to penalise (Art. 33).
struct NoPenaltyInput {
  std::string case_id;
  std::string party_id;
  std::string education_record;          // what was explained to the party (every ground)
  int64_t decided_at_ms = 0;             // 0: now
  std::vector<std::string> officer_ids;  // empty: the case's officers
  NoPenaltyGround ground = NoPenaltyGround::kUnspecified;  // required
  NoPenaltyCorrection correction;                          // for the two ¶1 grounds
  std::vector<std::string> no_fault_evidence_ids;          // for kNoFault: evidence of the case
};

struct NoPenaltyDecision {
  std::string decision_id;
  std::string case_id;
  std::string matter_code;
  std::string party_id;
  std::string education_record;
  int64_t decided_at_ms = 0;
  std::vector<std::string> officer_ids;
  NoPenaltyGround ground = NoPenaltyGround::kUnspecified;
  NoPenaltyCorrection correction;
  std::vector<std::string> no_fault_evidence_ids;
};

// An entry an officer adds to a case's timeline: kNote, kNotification,
// kService, kPayment, or the party's kStatement / kStatementWaived after the
// notice (the other kinds are written by the library).
struct CaseEventInput {
  std::string case_id;
  CaseEventKind kind = CaseEventKind::kUnspecified;
  std::string text;
  int64_t at_ms = 0;       // 0: now
  int64_t amount_fen = 0;  // for kPayment
  // For kService: the record of service, which lets the case move to
  // SERVED (text may then be empty). Without it a kService event is a note.
  std::optional<ServiceRecord> service;
  // For kPayment: how it was paid. Without it, a bank payment at at_ms.
  std::optional<PaymentRecord> payment;
  // For kHandOver (required).
  std::optional<HandOverRecord> hand_over;
};

struct CaseEvent {
  std::string event_id;
  std::string case_id;
  CaseEventKind kind = CaseEventKind::kUnspecified;
  std::string text;
  int64_t at_ms = 0;
  std::string officer_id;
  CaseState from_state = CaseState::kUnspecified;  // for kTransition
  CaseState to_state = CaseState::kUnspecified;
  int64_t amount_fen = 0;
  std::optional<ServiceRecord> service;     // for kService
  std::optional<PaymentRecord> payment;     // for kPayment
  std::optional<HandOverRecord> hand_over;  // for kHandOver
};

// A case with everything recorded on it.
struct CaseView {
  CaseRecord record;
  std::vector<Evidence> evidence;
  std::vector<Ticket> tickets;
  std::vector<NoPenaltyDecision> no_penalty_decisions;
  std::vector<CaseEvent> timeline;  // oldest first
};

// Filter and page of Client::ListCases. Results are ordered newest
// occurrence first (occurred_at_ms, then case id, descending).
struct CaseQuery {
  std::optional<CaseState> state;
  std::string town_id;                       // empty: any town
  std::optional<int64_t> occurred_from_ms;   // inclusive
  std::optional<int64_t> occurred_until_ms;  // exclusive
  int page_size = 50;                        // 1..500
  std::string page_token;                    // from CasePage::next_page_token
};

struct CasePage {
  std::vector<CaseRecord> cases;
  // Opaque; empty when there are no more cases.
  std::string next_page_token;
};

// An entry of the matter catalogue (执法事项).
struct Matter {
  std::string code;
  std::string category;
  std::string name;
  std::string legal_basis;
  std::string penalty_basis;
  int64_t fine_min_fen = 0;
  int64_t fine_max_fen = 0;
  bool delegated_to_towns = false;
  bool fast_track = false;
  bool no_penalty_list = false;
  bool major = false;
  int64_t major_fine_threshold_fen = 0;
  std::string no_penalty_field;
  std::string no_penalty_conditions;
  // The ¶1 grounds the list entry admits (empty: the first-violation ground).
  std::vector<NoPenaltyGround> no_penalty_grounds;
  // Months back another violation makes one not a first (0: ever).
  int32_t no_penalty_lookback_months = 0;
};

// What is waiting to reach the server.
struct PendingSyncCounts {
  uint64_t mutations = 0;            // outbox entries not yet acknowledged
  uint64_t uploads = 0;              // evidence files not yet uploaded
  int64_t oldest_pending_at_ms = 0;  // 0 when nothing is pending
};

// Outcome of the last sync, as the app shows it.
struct SyncReport {
  bool ever_synced = false;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  bool ok = false;
  std::string error_reason;  // machine reason when !ok
  std::string message;
  uint64_t pushed = 0;
  uint64_t applied = 0;
  uint64_t applied_with_conflict = 0;
  uint64_t rejected = 0;
  uint64_t pulled = 0;
  // Mutations the server had already seen (a resumed sync); each is also
  // counted under the outcome it first got.
  uint64_t duplicates = 0;
  // Field values that lost a last-writer-wins merge in this sync's results
  // (see Client::ListSyncIssues).
  uint64_t conflicts = 0;
  // The server asked for a fresh snapshot (restored from a backup, or the
  // device's scope changed); the device replaced its copy of the scope and
  // kept every unsent write.
  bool resync = false;
  // This sync's pull was a snapshot (first sync, resync, or after a rejected
  // write whose local effect had to be undone).
  bool snapshot = false;
  int64_t duration_ms = 0;
  // Ticket numbers leased during this sync.
  int64_t ticket_numbers_leased = 0;
  // After a restore of the server (its epoch changed): the device's ticket
  // leases the server holds again (taken back, or never forgotten), and
  // those it refused (the message says which and why; tickets numbered from
  // a refused lease come back rejected). docs/protocol.md, "Ticket numbers
  // across a restore".
  uint64_t ticket_leases_restored = 0;
  uint64_t ticket_leases_refused = 0;
  // Evidence files (issue 18): uploaded by this sync, tried by it and
  // failed, and still waiting when it ended (the device's whole queue, also
  // files recorded while it ran). When uploads_failed > 0 the sync returns
  // OK with ok = false and error_reason "uploads_pending": its writes and
  // pull are done and kept, its files are not; the next sync tries again.
  uint64_t uploads_done = 0;
  uint64_t uploads_failed = 0;
  uint64_t uploads_pending = 0;
  // Why the first failed upload failed: the server's status name (e.g.
  // "RESOURCE_EXHAUSTED" for a full disk) and its message; empty when none
  // failed.
  std::string upload_error_code;
  std::string upload_error;
  // Pulls this sync ran: 2 when its own pushes and uploads changed entities
  // after the first pull began, so that the device ends equal to the server.
  uint64_t pulls = 0;
  // Calls made again after the link broke or the server was briefly
  // unavailable (docs/protocol.md, "Bad links"); each resumed from what
  // was already kept.
  uint64_t retries = 0;
  // The byte budget of pull pages, push batches, upload chunks and
  // reference-data parts when the sync ended; the next sync starts from it.
  uint64_t link_budget_bytes = 0;
};

// What a sync is doing, for progress callbacks.
enum class SyncPhase : int {
  kReference = 1,  // catalogue, roster, ticket-number lease
  kPush = 2,       // outbox to the server
  kPull = 3,       // changes in the device's scope from the server
  kUpload = 4,     // evidence files (bytes), after the push
};

// Returns "reference", "push", "pull" or "upload". The string is static.
PALM_EXPORT const char* SyncPhaseName(SyncPhase phase);

struct SyncProgress {
  SyncPhase phase = SyncPhase::kReference;
  // Items done in this phase so far, and the total expected (0 when not yet
  // known). Push counts mutations, pull counts changes.
  uint64_t done = 0;
  uint64_t total = 0;
};

enum class SyncIssueKind : int {
  // The server refused one of this device's writes; it is kept on the server
  // for the squad leader and its local effect was undone by the next pull.
  kRejected = 1,
  // A case field value lost a last-writer-wins merge (DESIGN.md §3.4).
  kConflict = 2,
};

// Something a sync reported that an officer or squad leader should see.
// Kept on the device (encrypted where it holds party data) until dismissed.
struct SyncIssue {
  // The conflict id for conflicts, the mutation id for rejections.
  std::string issue_id;
  SyncIssueKind kind = SyncIssueKind::kRejected;
  // The write of this device that got the outcome.
  std::string mutation_id;
  uint64_t device_seq = 0;
  std::string case_id;
  int64_t recorded_at_ms = 0;
  bool dismissed = false;
  // kRejected: machine reason (e.g. "stale_transition") and the server's
  // sentence.
  std::string reason;
  std::string message;
  // kConflict: the field, the value that lost and the one that won.
  CaseField field = CaseField::kUnspecified;
  std::string party_id;
  std::string losing_value;
  std::string losing_device_id;
  std::string winning_value;
  std::string winning_device_id;
};

}  // namespace palm

#endif  // PALM_TYPES_H_
