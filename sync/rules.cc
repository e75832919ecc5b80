#include "sync/rules.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sync/lifecycle.h"
#include "sync/operations.h"
#include "sync/status.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

bool Blank(absl::string_view text) { return absl::StripAsciiWhitespace(text).empty(); }

absl::Status UnknownMatter(absl::string_view code) {
  if (code.empty()) {
    return InvalidArgument(v1::REASON_UNKNOWN_MATTER, "no matter code is given");
  }
  return InvalidArgument(v1::REASON_UNKNOWN_MATTER,
                         absl::StrCat("matter code ", code, " is not in the catalogue"));
}

std::string LimitText(const v1::Remedy& remedy) {
  std::vector<std::string> parts;
  if (remedy.deadline_days() != 0) parts.push_back(absl::StrCat(remedy.deadline_days(), " days"));
  if (remedy.deadline_months() != 0) {
    parts.push_back(absl::StrCat(remedy.deadline_months(), " months"));
  }
  return absl::StrJoin(parts, " and ");
}

absl::Status MissingTicketField(absl::string_view element) {
  return InvalidArgument(v1::REASON_MISSING_TICKET_FIELD,
                         absl::StrCat("the ticket lacks ", element, " (Art. 52)"));
}

// A remedy's time limit as the law sets it: reconsideration within 60 days
// (行政复议法 Art. 20), litigation within 6 months (行政诉讼法 Art. 46). A
// ticket that states another limit misinforms the party. Tickets issued
// before deadline_months existed said 180 days for litigation; they stay
// on record as issued, but a new ticket must say 6 months.
absl::Status CheckRemedyLimit(const v1::Remedy& remedy, int index) {
  const std::string which = absl::StrCat("remedy ", index + 1);
  switch (remedy.kind()) {
    case v1::REMEDY_KIND_RECONSIDERATION:
      if (remedy.deadline_days() == kReconsiderationDays && remedy.deadline_months() == 0) {
        return absl::OkStatus();
      }
      if (remedy.deadline_days() <= 0 && remedy.deadline_months() <= 0) {
        return MissingTicketField(absl::StrCat("the time limit of ", which, " (reconsideration)"));
      }
      return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                             absl::StrCat(which, " (reconsideration) states ", LimitText(remedy),
                                          "; the law gives 60 days (deadline_days 60)"));
    case v1::REMEDY_KIND_LITIGATION:
      if (remedy.deadline_months() == kLitigationMonths && remedy.deadline_days() == 0) {
        return absl::OkStatus();
      }
      if (remedy.deadline_days() <= 0 && remedy.deadline_months() <= 0) {
        return MissingTicketField(absl::StrCat("the time limit of ", which, " (litigation)"));
      }
      return InvalidArgument(
          v1::REASON_INVALID_ARGUMENT,
          absl::StrCat(which, " (litigation) states ", LimitText(remedy),
                       "; the law gives 6 months (deadline_months 6, deadline_days 0)"));
    default:
      return InvalidArgument(
          v1::REASON_INVALID_ARGUMENT,
          absl::StrCat(which, " is neither reconsideration nor litigation (kind unset)"));
  }
}

// The Art. 52 elements not covered by the Art. 51 checks, in the order the
// form lists them.
absl::Status CheckTicketElements(const v1::Ticket& t) {
  if (Blank(t.violation())) return MissingTicketField("the violation found");
  if (Blank(t.legal_basis())) return MissingTicketField("the legal basis");
  if (Blank(t.penalty_basis())) return MissingTicketField("the penalty basis");
  if (t.issued_at_ms() <= 0) return MissingTicketField("the time of issue");
  if (Blank(t.place().address())) return MissingTicketField("the place");
  if (t.remedies().empty()) {
    return MissingTicketField("the remedies open to the party (reconsideration, litigation)");
  }
  bool reconsideration = false;
  bool litigation = false;
  for (int i = 0; i < t.remedies_size(); ++i) {
    const v1::Remedy& remedy = t.remedies(i);
    if (Blank(remedy.body())) {
      return MissingTicketField(absl::StrCat("the body to apply to for remedy ", i + 1));
    }
    PALM_RETURN_IF_ERROR(CheckRemedyLimit(remedy, i));
    reconsideration = reconsideration || remedy.kind() == v1::REMEDY_KIND_RECONSIDERATION;
    litigation = litigation || remedy.kind() == v1::REMEDY_KIND_LITIGATION;
  }
  if (!reconsideration) {
    return MissingTicketField("the remedy of reconsideration (within 60 days)");
  }
  if (!litigation) return MissingTicketField("the remedy of litigation (within 6 months)");
  if (Blank(t.agency())) return MissingTicketField("the agency");
  if (t.party_signature() != v1::PARTY_SIGNATURE_SIGNED &&
      t.party_signature() != v1::PARTY_SIGNATURE_REFUSED) {
    return MissingTicketField("the party's signature or the note that the party refused to sign");
  }
  if (t.ticket_number() <= 0) return MissingTicketField("a ticket number");
  return absl::OkStatus();
}

}  // namespace

std::string MatterLabel(const v1::Matter& matter) {
  return matter.name().empty() ? matter.code()
                               : absl::StrCat(matter.code(), " (", matter.name(), ")");
}

std::string FormatYuan(int64_t fen) {
  // Work on the magnitude as unsigned so that INT64_MIN does not overflow.
  const bool negative = fen < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  const uint64_t yuan = magnitude / 100;
  const uint64_t cents = magnitude % 100;
  std::string text = negative ? "-" : "";
  if (cents == 0) {
    absl::StrAppend(&text, yuan);
  } else {
    absl::StrAppend(&text, yuan, cents < 10 ? ".0" : ".", cents);
  }
  return text;
}

TicketCount CountTicket(const v1::Ticket& t) {
  if (t.voided()) return TicketCount::kVoided;
  return t.penalty() == v1::PENALTY_KIND_WARNING ? TicketCount::kWarning : TicketCount::kFine;
}

absl::Status CheckRecordCase(const v1::Case& c, const v1::Matter* matter) {
  if (!IsValidUuid(c.case_id())) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                           absl::StrCat("case_id \"", c.case_id(), "\" is not a UUID"));
  }
  if (c.matter_code().empty()) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT, "the case names no matter code");
  }
  if (matter == nullptr) return UnknownMatter(c.matter_code());
  if (c.procedure() != v1::PROCEDURE_SUMMARY && c.procedure() != v1::PROCEDURE_ORDINARY) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                           "the case names no procedure (summary or ordinary)");
  }
  if (c.officer_ids().empty()) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT, "the case names no officer");
  }
  const v1::CaseState initial = InitialState(c.procedure());
  if (c.state() != initial) {
    return InvalidArgument(
        v1::REASON_INVALID_ARGUMENT,
        absl::StrCat("a new ", c.procedure() == v1::PROCEDURE_SUMMARY ? "summary" : "ordinary",
                     " case starts in state ", StateName(initial), ", not ", StateName(c.state())));
  }
  for (int i = 0; i < c.parties_size(); ++i) {
    const v1::PartyKind kind = c.parties(i).kind();
    if (kind != v1::PARTY_KIND_CITIZEN && kind != v1::PARTY_KIND_ORGANISATION) {
      return InvalidArgument(
          v1::REASON_INVALID_ARGUMENT,
          absl::StrCat("party ", i + 1, " is neither a citizen nor an organisation (kind unset)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTicket(const v1::Ticket& t, const v1::Matter* matter,
                         const std::vector<v1::Officer>& known_officers) {
  // Art. 51: may this be decided on the spot at all?
  if (matter == nullptr) return UnknownMatter(t.matter_code());
  if (!matter->fast_track()) {
    return InvalidArgument(
        v1::REASON_NOT_FAST_TRACK,
        absl::StrCat("matter ", MatterLabel(*matter),
                     " cannot be decided on the spot (Art. 51); use the ordinary procedure"));
  }
  if (t.mitigated()) {
    return InvalidArgument(
        v1::REASON_MITIGATED_PENALTY,
        "a mitigated penalty cannot be decided on the spot (Art. 51); use the ordinary procedure");
  }
  if (t.penalty() != v1::PENALTY_KIND_WARNING && t.penalty() != v1::PENALTY_KIND_FINE) {
    return MissingTicketField("the penalty (warning or fine)");
  }
  if (t.party_kind() != v1::PARTY_KIND_CITIZEN && t.party_kind() != v1::PARTY_KIND_ORGANISATION) {
    return MissingTicketField("the kind of party (citizen or organisation)");
  }
  if (t.penalty() == v1::PENALTY_KIND_WARNING) {
    if (t.fine_fen() != 0) {
      return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                             absl::StrCat("a warning carries no fine, but the ticket names ",
                                          FormatYuan(t.fine_fen()), " yuan"));
    }
  } else {
    if (t.fine_fen() <= 0) return MissingTicketField("the amount of the fine");
    const bool citizen = t.party_kind() == v1::PARTY_KIND_CITIZEN;
    const int64_t limit = citizen ? kCitizenOnTheSpotLimitFen : kOrganisationOnTheSpotLimitFen;
    if (t.fine_fen() > limit) {
      return InvalidArgument(
          v1::REASON_FINE_OVER_LIMIT,
          absl::StrCat("fine ", FormatYuan(t.fine_fen()), " yuan exceeds the on-the-spot limit of ",
                       FormatYuan(limit), " yuan for ", citizen ? "a citizen" : "an organisation",
                       " (Art. 51); use the ordinary procedure"));
    }
    if (matter->fine_max_fen() > 0 &&
        (t.fine_fen() < matter->fine_min_fen() || t.fine_fen() > matter->fine_max_fen())) {
      return InvalidArgument(
          v1::REASON_FINE_OVER_LIMIT,
          absl::StrCat("fine ", FormatYuan(t.fine_fen()), " yuan is outside the range of ",
                       FormatYuan(matter->fine_min_fen()), " to ",
                       FormatYuan(matter->fine_max_fen()), " yuan set for matter ",
                       MatterLabel(*matter)));
    }
  }

  // Art. 42: who decided. Every officer named must be on the roster and
  // active; at least two of them must hold enforcement credentials.
  std::set<std::string> distinct;
  for (const std::string& id : t.officer_ids()) {
    if (!Blank(id)) distinct.insert(id);
  }
  if (distinct.size() < 2) {
    return InvalidArgument(
        v1::REASON_TOO_FEW_OFFICERS,
        absl::StrCat("a ticket needs at least two law-enforcement officers holding credentials "
                     "(Art. 42); ",
                     distinct.empty() ? std::string("no officer is named")
                                      : std::string("only 1 officer is named")));
  }
  const OfficerLookup roster = [&known_officers](const std::string& id) -> const v1::Officer* {
    for (const v1::Officer& officer : known_officers) {
      if (officer.officer_id() == id) return &officer;
    }
    return nullptr;
  };
  for (const std::string& id : t.officer_ids()) {
    if (Blank(id)) continue;
    const v1::Officer* found = roster(id);
    // An officer who is no longer active counts as off the roster, whether
    // the checker's roster lists them (the device's synced copy) or not.
    if (found == nullptr || !found->active()) {
      return InvalidArgument(v1::REASON_UNKNOWN_OFFICER,
                             absl::StrCat("officer ", id, " is not on the roster"));
    }
  }
  PALM_RETURN_IF_ERROR(
      CheckCredentialedOfficers(t.officer_ids(), CredentialedAct::kTicket, roster));
  PALM_RETURN_IF_ERROR(CheckTicketElements(t));
  return CheckTicketBasis(t, *matter);
}

absl::Status CheckTicketBasis(const v1::Ticket& t, const v1::Matter& matter) {
  const struct {
    const char* what;
    const std::string& cited;
    const std::string& catalogued;
  } bases[] = {{"legal basis", t.legal_basis(), matter.legal_basis()},
               {"penalty basis", t.penalty_basis(), matter.penalty_basis()}};
  for (const auto& basis : bases) {
    const absl::string_view catalogued = absl::StripAsciiWhitespace(basis.catalogued);
    if (catalogued.empty() || absl::StripAsciiWhitespace(basis.cited) == catalogued) continue;
    return InvalidArgument(
        v1::REASON_LEGAL_BASIS_MISMATCH,
        absl::StrCat("the ticket's ", basis.what, " \"", basis.cited,
                     "\" is not the catalogue's for matter ", MatterLabel(matter), ", \"",
                     catalogued, "\" (Art. 38: a penalty needs its legal basis)"));
  }
  return absl::OkStatus();
}

}  // namespace palm::sync
