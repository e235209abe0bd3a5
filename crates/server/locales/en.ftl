# The portal's English messages. Every key here must exist in every other
# language file (a test checks).

nav-skip = Skip to content
nav-label = Main
nav-jobs = Open jobs
nav-dashboard = Dashboard
nav-new-request = New request
nav-signin = Sign in
nav-signup = Sign up
nav-signout = Sign out ({ $name })
nav-other-language = Deutsch
footer-text = fairgig: fair, AI-assisted freelance work, self-hosted.
footer-api = API

landing-title = Fair, AI-assisted freelance work
landing-heading = Describe the work. Meet the right people, fairly.
landing-lead = fairgig reads what you need — text, documents, a voice note — and turns it into a clear brief, checks it for exclusionary language, and matches it with freelancers, giving newcomers a fair share of the attention.
landing-start = Get started
landing-browse = Browse open jobs
landing-how = How fairgig works
landing-describe-title = Say it your way
landing-describe-text = Write a few lines or attach documents. fairgig extracts the text, finds the skills, budget and dates, and summarises the request.
landing-fair-title = Explained, fair matches
landing-fair-text = Every match says why: skills, budget, experience, rating, region. Re-ranking keeps every group, newcomers included, visible near the top.
landing-bias-title = Words that welcome
landing-bias-text = Job posts, profiles and reviews are checked for exclusionary language, with an explanation and a better word for each finding.

jobs-title = Open jobs
jobs-search = Search
jobs-search-note = Filters read the newest open jobs; full-text search is coming.
jobs-remote-only = Remote only
jobs-remote = Remote
jobs-filter = Filter
jobs-none = No open job fits these filters.

signup-title = Create your account
signup-role = I want to
signup-role-client = hire: describe work and find freelancers
signup-role-freelancer = work: offer my skills
signup-password-hint = At least 8 characters, hard to guess (not your name or email).
signup-submit = Create account
signup-have-account = Already have an account?

signin-title = Sign in
signin-submit = Sign in
signin-no-account = New to fairgig?
signin-wrong = Email or password is wrong.
signin-locked = Too many failed attempts. Try again in { $seconds } seconds.

field-email = Email
field-display-name = Name shown to others
field-password = Password
field-title = Title
field-kind = Kind
field-status = Status
field-created = Created
field-text = Describe what you need
field-budget = Budget (total)
field-currency = Currency
field-deadline = Deadline
field-region = Region
field-region-hint = A code such as DE, US-CA or EU; leave empty for anywhere.
field-files = Documents
field-voice = Voice recording

dashboard-title = Dashboard
dashboard-heading = Welcome, { $name }
dashboard-requests = Your requests
dashboard-no-requests = No requests yet.
dashboard-jobs = Your jobs
dashboard-no-jobs = No jobs yet. A request of kind “job” becomes one.

request-new-title = New request
request-new-lead = Tell us what you need. Attach documents if you have them; we read PDF, DOCX, HTML, Markdown and text.
request-kind-request = A request (analysed, not published)
request-kind-job = A job (published to freelancers and matched)
request-text-hint = Up to 100,000 characters. May be empty when you attach a document.
request-files-hint = Up to 10 documents.
request-voice-hint = WAV, MP3, OGG, WebM or M4A. It is stored; transcription is not available yet.
request-budget-invalid = Enter an amount such as 1500 or 1500.50.
request-submit = Send request
request-title = Request

result-progress = Progress
result-working = Working on it — this page updates by itself.
result-reload = Reload
result-failed = A step failed; its error is shown above.
result-documents = Documents
result-document-chars = { $chars } characters
result-document-pages = { $pages } pages
result-document-truncated = cut at the limit
result-document-skipped = not a document; kept as an attachment
result-voice-pending = stored; transcription is not available yet
result-analysis = Analysis
result-language = Language
result-complexity = Complexity
result-words = Words
result-summary = Summary
result-keywords = Keywords
result-skills = Skills (ESCO)
result-money-dates = Money and dates
result-bias = Language check
result-bias-clean = No exclusionary language found.
result-bias-count = { $count } findings. Marked in the text below, each with why and a suggestion.
result-bias-suggestions = Try:
result-matches = Matched freelancers
result-fairness = Ranked by relevance, then re-ranked for fair exposure ({ $algorithm }).
result-min-skew = Worst group skew at the top, before → after:
result-target = Target shares:
result-score = Score
result-newcomer = Newcomer
result-relevance-rank = { $rank } by score alone
result-strengths = Strengths
result-gaps = Gaps

job-needs-review = needs review

step-extract = Reading the text and documents
step-analyse = Analysing
step-bias-check = Checking the language
step-embed = Understanding the meaning
step-publish-job = Publishing the job
step-match = Matching freelancers

status-waiting = waiting
status-queued = queued
status-running = running
status-retrying = retrying
status-succeeded = done
status-failed = failed
status-cancelled = cancelled
status-received = received
status-processing = processing
status-completed = completed
status-draft = draft
status-open = open
status-in-progress = in progress

kind-job = job
kind-request = request

complexity-low = low
complexity-medium = medium
complexity-high = high

severity-info = note
severity-warning = warning
severity-error = serious

error-not-found = Not found
error-not-found-text = There is no such page, or it is not yours to see.
error-forbidden = Not allowed
error-forbidden-text = You may not do this. If you sent a form, reload the page and try again.
error-conflict = Not possible now
error-conflict-text = This cannot be done in the current state.
error-rate-limited = Too many requests
error-rate-limited-text = Please wait a moment and try again.
error-internal = Something went wrong
error-internal-text = We could not show this page. The error was logged.
error-request-id = Request id:
error-home = Back to the start page

profile-title = Your freelancer profile
profile-lead = Clients find you by what you write here. Skills and experience count towards matching; nothing else about you does.
profile-skills-hint = Comma-separated, up to 50: Rust, PostgreSQL, technical writing
profile-years-invalid = Enter a number of years such as 3 or 4.5.
profile-submit = Save profile
field-headline = Headline
field-bio = About your work
field-skills = Skills
field-hourly-rate = Hourly rate
field-years = Years of experience
field-availability = Availability
field-cover-letter = Cover note
availability-available = available
availability-limited = limited time
availability-unavailable = not taking work
job-title = Job
job-apply = Apply
job-apply-submit = Send application
dashboard-jobs-for-me = Jobs for you
dashboard-no-profile = Create your profile to see jobs that fit you.
dashboard-edit-profile = Edit profile
dashboard-no-jobs-for-me = No open job fits your profile yet.

job-new-title = Write a job
job-new-lead = Describe the work. The language check runs as you type and marks words that could keep good people away.
job-new-check-hint = Findings appear below after a short pause in typing.
job-new-submit = Save and publish
field-description = Description
field-required-skills = Required skills
field-rating = Rating (1–5)
field-review = Your review
job-manage = Manage
job-acknowledge = I have read the findings and publish the job anyway.
job-publish = Publish
job-complete = Mark completed
job-cancel = Cancel the job
job-applicants = Applicants
job-no-applicants = No applications yet.
job-no-matches = No freelancer fits this job yet.
job-review = Leave a review
job-review-submit = Send review
application-applied = applied
application-shortlisted = shortlisted
application-hired = hired
application-rejected = rejected
application-withdrawn = withdrawn
application-shortlist = Shortlist
application-hire = Hire
application-reject = Reject
nav-new-job = Write a job

dashboard-reviews = Reviews of you
dashboard-no-reviews = No reviews yet.
