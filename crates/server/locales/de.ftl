# Die deutschen Texte des Portals.

nav-skip = Zum Inhalt springen
nav-label = Hauptmenü
nav-jobs = Offene Aufträge
nav-dashboard = Übersicht
nav-new-request = Neue Anfrage
nav-signin = Anmelden
nav-signup = Registrieren
nav-signout = Abmelden ({ $name })
nav-other-language = English
footer-text = fairgig: faire, KI-gestützte freie Mitarbeit, selbst betrieben.
footer-api = API

landing-title = Faire, KI-gestützte freie Mitarbeit
landing-heading = Beschreiben Sie die Arbeit. Finden Sie die Richtigen, fair.
landing-lead = fairgig liest, was Sie brauchen — Text, Dokumente, eine Sprachnachricht —, macht daraus ein klares Briefing, prüft es auf ausgrenzende Sprache und bringt es mit Freelancern zusammen, wobei auch Neue fair gesehen werden.
landing-start = Jetzt beginnen
landing-browse = Offene Aufträge ansehen
landing-how = So funktioniert fairgig
landing-describe-title = Sagen Sie es auf Ihre Art
landing-describe-text = Schreiben Sie ein paar Zeilen oder hängen Sie Dokumente an. fairgig liest den Text, findet Fähigkeiten, Budget und Termine und fasst die Anfrage zusammen.
landing-fair-title = Erklärte, faire Vorschläge
landing-fair-text = Jeder Vorschlag sagt, warum: Fähigkeiten, Budget, Erfahrung, Bewertung, Region. Die Neuordnung hält jede Gruppe, auch Neue, oben sichtbar.
landing-bias-title = Worte, die einladen
landing-bias-text = Auftragstexte, Profile und Bewertungen werden auf ausgrenzende Sprache geprüft, mit Erklärung und besserem Wort für jeden Fund.

jobs-title = Offene Aufträge
jobs-search = Suche
jobs-search-note = Die Filter lesen die neuesten offenen Aufträge; die Volltextsuche folgt.
jobs-remote-only = Nur remote
jobs-remote = Remote
jobs-filter = Filtern
jobs-none = Kein offener Auftrag passt zu diesen Filtern.

signup-title = Konto anlegen
signup-role = Ich möchte
signup-role-client = beauftragen: Arbeit beschreiben und Freelancer finden
signup-role-freelancer = arbeiten: meine Fähigkeiten anbieten
signup-password-hint = Mindestens 8 Zeichen, schwer zu erraten (nicht Ihr Name oder Ihre E-Mail).
signup-submit = Konto anlegen
signup-have-account = Schon ein Konto?

signin-title = Anmelden
signin-submit = Anmelden
signin-no-account = Neu bei fairgig?
signin-wrong = E-Mail oder Passwort ist falsch.
signin-locked = Zu viele Fehlversuche. Bitte in { $seconds } Sekunden erneut versuchen.

field-email = E-Mail
field-display-name = Angezeigter Name
field-password = Passwort
field-title = Titel
field-kind = Art
field-status = Status
field-created = Erstellt
field-text = Beschreiben Sie, was Sie brauchen
field-budget = Budget (gesamt)
field-currency = Währung
field-deadline = Termin
field-region = Region
field-region-hint = Ein Kürzel wie DE, US-CA oder EU; leer lassen für überall.
field-files = Dokumente
field-voice = Sprachaufnahme

dashboard-title = Übersicht
dashboard-heading = Willkommen, { $name }
dashboard-requests = Ihre Anfragen
dashboard-no-requests = Noch keine Anfragen.
dashboard-jobs = Ihre Aufträge
dashboard-no-jobs = Noch keine Aufträge. Eine Anfrage der Art „Auftrag“ wird zu einem.

request-new-title = Neue Anfrage
request-new-lead = Sagen Sie uns, was Sie brauchen. Hängen Sie Dokumente an, wenn Sie welche haben; wir lesen PDF, DOCX, HTML, Markdown und Text.
request-kind-request = Eine Anfrage (analysiert, nicht veröffentlicht)
request-kind-job = Ein Auftrag (für Freelancer veröffentlicht und zugeordnet)
request-text-hint = Bis zu 100.000 Zeichen. Darf leer sein, wenn Sie ein Dokument anhängen.
request-files-hint = Bis zu 10 Dokumente.
request-voice-hint = WAV, MP3, OGG, WebM oder M4A. Sie wird gespeichert; eine Transkription gibt es noch nicht.
request-budget-invalid = Geben Sie einen Betrag wie 1500 oder 1500,50 ein.
request-submit = Anfrage senden
request-title = Anfrage

result-progress = Fortschritt
result-working = In Arbeit — diese Seite aktualisiert sich selbst.
result-reload = Neu laden
result-failed = Ein Schritt ist fehlgeschlagen; sein Fehler steht oben.
result-documents = Dokumente
result-document-chars = { $chars } Zeichen
result-document-pages = { $pages } Seiten
result-document-truncated = an der Grenze gekürzt
result-document-skipped = kein Dokument; als Anhang aufbewahrt
result-voice-pending = gespeichert; Transkription noch nicht verfügbar
result-analysis = Analyse
result-language = Sprache
result-complexity = Umfang
result-words = Wörter
result-summary = Zusammenfassung
result-keywords = Schlagwörter
result-skills = Fähigkeiten (ESCO)
result-money-dates = Beträge und Termine
result-bias = Sprachprüfung
result-bias-clean = Keine ausgrenzende Sprache gefunden.
result-bias-count = { $count } Funde. Unten im Text markiert, jeweils mit Begründung und Vorschlag.
result-bias-suggestions = Besser:
result-matches = Passende Freelancer
result-fairness = Nach Relevanz geordnet, dann für faire Sichtbarkeit neu geordnet ({ $algorithm }).
result-min-skew = Stärkste Gruppenverzerrung oben, vorher → nachher:
result-target = Zielanteile:
result-score = Wert
result-newcomer = Neu dabei
result-relevance-rank = { $rank }. nach Wert allein
result-strengths = Stärken
result-gaps = Lücken

job-needs-review = Prüfung nötig

step-extract = Text und Dokumente lesen
step-analyse = Analysieren
step-bias-check = Sprache prüfen
step-embed = Bedeutung erfassen
step-publish-job = Auftrag veröffentlichen
step-match = Freelancer zuordnen

status-waiting = wartet
status-queued = eingereiht
status-running = läuft
status-retrying = neuer Versuch
status-succeeded = fertig
status-failed = fehlgeschlagen
status-cancelled = abgebrochen
status-received = eingegangen
status-processing = in Bearbeitung
status-completed = abgeschlossen
status-draft = Entwurf
status-open = offen
status-in-progress = in Arbeit

kind-job = Auftrag
kind-request = Anfrage

complexity-low = gering
complexity-medium = mittel
complexity-high = hoch

severity-info = Hinweis
severity-warning = Warnung
severity-error = ernst

error-not-found = Nicht gefunden
error-not-found-text = Diese Seite gibt es nicht, oder sie ist nicht für Sie.
error-forbidden = Nicht erlaubt
error-forbidden-text = Das dürfen Sie nicht. Wenn Sie ein Formular gesendet haben, laden Sie die Seite neu und versuchen Sie es erneut.
error-conflict = Gerade nicht möglich
error-conflict-text = Das geht im jetzigen Zustand nicht.
error-rate-limited = Zu viele Anfragen
error-rate-limited-text = Bitte warten Sie einen Moment und versuchen Sie es erneut.
error-internal = Etwas ist schiefgegangen
error-internal-text = Wir konnten diese Seite nicht anzeigen. Der Fehler wurde protokolliert.
error-request-id = Anfrage-ID:
error-home = Zur Startseite

profile-title = Ihr Freelancer-Profil
profile-lead = Auftraggeber finden Sie über das, was Sie hier schreiben. Fähigkeiten und Erfahrung zählen für die Zuordnung; sonst nichts über Sie.
profile-skills-hint = Durch Kommas getrennt, bis zu 50: Rust, PostgreSQL, technisches Schreiben
profile-years-invalid = Geben Sie eine Zahl von Jahren wie 3 oder 4,5 ein.
profile-submit = Profil speichern
field-headline = Überschrift
field-bio = Über Ihre Arbeit
field-skills = Fähigkeiten
field-hourly-rate = Stundensatz
field-years = Jahre Erfahrung
field-availability = Verfügbarkeit
field-cover-letter = Anschreiben
availability-available = verfügbar
availability-limited = wenig Zeit
availability-unavailable = nimmt keine Aufträge an
job-title = Auftrag
job-apply = Bewerben
job-apply-submit = Bewerbung senden
dashboard-jobs-for-me = Aufträge für Sie
dashboard-no-profile = Legen Sie Ihr Profil an, um passende Aufträge zu sehen.
dashboard-edit-profile = Profil bearbeiten
dashboard-no-jobs-for-me = Noch passt kein offener Auftrag zu Ihrem Profil.
