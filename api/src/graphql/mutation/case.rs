use async_graphql::{Context, ID, Object, Result};

use crate::domain::donation::RequestKind;
use crate::error::AppError;
use crate::graphql::types::{
    CaseRequest, CaseRequestKind, CaseStepInput, CheckUp, CheckUpAnswersInput, ContactAttempt, ContactAttemptInput,
    DonationCase, EndCaseInput, FamilySessionInput, OpenCaseInput, PlanCaseDatesInput,
};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::cases::{CheckUpAnswers, EndInput, NewCase, PatientInfo, PlannedDates, Requester};

#[derive(Debug, Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Opens a donation case when a patient's search hits an available volunteer. A volunteer
    /// whose last confirmation is older than the branch's threshold is flagged (`staleContact`)
    /// and the coordinator alerted. A volunteer already in an active case is CONFLICT on
    /// `input.volunteerId`, and the branch alerted to the second request. Audited.
    ///
    /// Access: national administrators; coordinators of the volunteer's branch.
    async fn open_case(&self, ctx: &Context<'_>, input: OpenCaseInput) -> Result<DonationCase> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let requester = match (&input.requesting_hospital_id, input.requesting_centre) {
            (Some(id), None) => Requester::Hospital(parse_id("input.requestingHospitalId", id)?),
            (None, Some(name)) => Requester::Centre(name),
            _ => {
                return Err(AppError::invalid(
                    "input.requestingCentre",
                    "give either the requesting hospital's id or an outside centre's name",
                )
                .into());
            }
        };
        let new = NewCase {
            volunteer_id: parse_id("input.volunteerId", &input.volunteer_id)?,
            requester,
            patient: PatientInfo {
                reference: input.patient_reference,
                sex: input.patient_sex.map(Into::into),
                age_band: input.patient_age_band.map(Into::into),
                shared: input.share_patient,
            },
            product: input.product.into(),
            urgency: input.urgency.into(),
            coordinator_id: input.coordinator_id.as_ref().map(|id| parse_id("input.coordinatorId", id)).transpose()?,
            coordinator_phone: input.coordinator_phone,
            hit_on: input.search_hit_on,
        };
        Ok(services(ctx)?.cases.open(&coordinator, &actor, new, request_id(ctx)).await?.into())
    }

    /// Records the case's next step on the date it happened. A step that skips one is
    /// BAD_USER_INPUT on `input.stage`; a step already passed, or on a case no longer active,
    /// is CONFLICT naming the current stage; clearance with a family concern open is CONFLICT
    /// naming it. The donor's status follows (RS from confirmatory typing, TU/TX after
    /// collection). Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn record_case_step(&self, ctx: &Context<'_>, case_id: ID, input: CaseStepInput) -> Result<DonationCase> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseId", &case_id)?;
        let cases = &services(ctx)?.cases;
        Ok(cases
            .record_step(&coordinator, &actor, id, (input.stage.into(), input.on, input.collected_ml), request_id(ctx))
            .await?
            .into())
    }

    /// Plans the exam and collection days of an active case, or clears them with null: the
    /// schedule leave letters read where no partner hospital has accepted a date. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn plan_case_dates(&self, ctx: &Context<'_>, case_id: ID, input: PlanCaseDatesInput) -> Result<DonationCase> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseId", &case_id)?;
        let plan = PlannedDates { exam_on: input.exam_on, collection_on: input.collection_on };
        Ok(services(ctx)?.cases.plan_dates(&coordinator, &actor, id, plan, request_id(ctx)).await?.into())
    }

    /// Ends an active case early, keeping the stage it reached, whose side ended it and why.
    /// `LOST_CONTACT` needs the branch's number of failed attempts on the case first (CONFLICT
    /// on `input.cause` before). A donor who backs out after clearance is a late regret: the
    /// most urgent alert. The donor's status follows. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn end_case(&self, ctx: &Context<'_>, case_id: ID, input: EndCaseInput) -> Result<DonationCase> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseId", &case_id)?;
        let end = EndInput { by: input.ended_by.into(), cause: input.cause.into(), note: input.note };
        Ok(services(ctx)?.cases.end(&coordinator, &actor, id, end, request_id(ctx)).await?.into())
    }

    /// Logs an attempt to reach the donor of an active case, in the volunteer's attempt log;
    /// the case counts the failures. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn log_case_contact_attempt(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        input: ContactAttemptInput,
    ) -> Result<ContactAttempt> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseId", &case_id)?;
        let cases = &services(ctx)?.cases;
        Ok(cases.log_attempt(&coordinator, &actor, id, input.into(), request_id(ctx)).await?.into())
    }

    /// Raises a family concern or a question on an active case, for the coordinator. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn raise_case_request(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        kind: CaseRequestKind,
        detail: Option<String>,
    ) -> Result<CaseRequest> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseId", &case_id)?;
        let cases = &services(ctx)?.cases;
        let kind: RequestKind = kind.into();
        Ok(cases.raise(&coordinator, &actor, id, kind, detail.as_deref(), request_id(ctx)).await?.into())
    }

    /// Books the family session of an open family concern: its date and who attends. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn book_family_session(
        &self,
        ctx: &Context<'_>,
        case_request_id: ID,
        input: FamilySessionInput,
    ) -> Result<CaseRequest> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseRequestId", &case_request_id)?;
        let cases = &services(ctx)?.cases;
        Ok(cases.book_session(&coordinator, &actor, id, input.on, &input.attendees, request_id(ctx)).await?.into())
    }

    /// Resolves a family concern, or answers a question, with its outcome (up to 500
    /// characters, kept encrypted). A resolved concern no longer holds clearance. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn resolve_case_request(
        &self,
        ctx: &Context<'_>,
        case_request_id: ID,
        outcome: String,
    ) -> Result<CaseRequest> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("caseRequestId", &case_request_id)?;
        let cases = &services(ctx)?.cases;
        Ok(cases.resolve(&coordinator, &actor, id, &outcome, request_id(ctx)).await?.into())
    }

    /// The donor tells their coordinator, from the app, that they have a question or that
    /// their family is worried (a family concern holds clearance until resolved). The
    /// coordinator is alerted. NOT_FOUND without an active case.
    ///
    /// Access: volunteers (their own case).
    async fn tell_coordinator(
        &self,
        ctx: &Context<'_>,
        kind: CaseRequestKind,
        message: Option<String>,
    ) -> Result<CaseRequest> {
        let me = principal(ctx).own_record()?;
        let cases = &services(ctx)?.cases;
        Ok(cases.tell_coordinator(&me, kind.into(), message.as_deref(), request_id(ctx)).await?.into())
    }

    /// The donor answers a due check-up's questionnaire, once.
    ///
    /// Access: volunteers (their own check-ups).
    async fn answer_check_up(&self, ctx: &Context<'_>, id: ID, input: CheckUpAnswersInput) -> Result<CheckUp> {
        let me = principal(ctx).own_record()?;
        let id = parse_id("id", &id)?;
        let symptoms: Vec<_> = input.symptoms.into_iter().map(Into::into).collect();
        let answers = CheckUpAnswers::new(input.feeling_well, &symptoms, input.seen_doctor, input.note.as_deref())?;
        Ok(services(ctx)?.cases.answer_check_up(&me, id, answers, request_id(ctx)).await?.into())
    }
}
