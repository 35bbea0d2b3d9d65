//! The green channel's vocabulary: what a hospital is asked to admit a donor for, where a
//! request stands, and why a hospital declines. The names follow FHIR's `Task` (requested,
//! accepted, rejected, cancelled), so a FHIR façade maps them one to one.

use super::donation::Stage;

stored_names! {
    /// What the donor is admitted for (the `ServiceRequest`'s code).
    AdmissionPurpose {
        /// The pre-donation medical exam.
        MedicalExam => "medical_exam",
        /// G-CSF mobilisation and collection (or the marrow harvest).
        Collection => "collection",
    }
}

impl AdmissionPurpose {
    /// Whether a case at `stage` may ask for this admission: the exam before it is passed,
    /// collection after it and before collection is recorded.
    #[must_use]
    pub fn fits(self, stage: Stage) -> bool {
        match self {
            Self::MedicalExam => stage.rank() < Stage::ExamPassed.rank(),
            Self::Collection => stage.rank() >= Stage::ExamPassed.rank() && stage.rank() < Stage::Collection.rank(),
        }
    }
}

stored_names! {
    /// Where a request stands (FHIR `Task.status`).
    AdmissionStatus {
        /// Waiting for the hospital's answer.
        Requested => "requested",
        /// The hospital admits the donor on the agreed date.
        Accepted => "accepted",
        /// The hospital said no, with a coded reason.
        Declined => "declined",
        /// Withdrawn by the registry (re-routed, or the case ended) or by the hospital after
        /// accepting.
        Cancelled => "cancelled",
    }
}

impl AdmissionStatus {
    /// Open requests still hold the case's slot for their purpose.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}

stored_names! {
    /// Why a hospital declines (FHIR `Task.statusReason`).
    DeclineReason {
        NoBed => "no_bed",
        NoService => "no_service",
        DateNotPossible => "date_not_possible",
        Other => "other",
    }
}
