// The pieces the forms and dialogs are built from, each written once: a select's options, a checkbox
// with its label, the line saying what went wrong, and the Cancel / submit row of a dialog.
import type { ReactNode } from "react";

export interface Choice {
  value: string;
  label: ReactNode;
}

/** A select's options, in the order given. */
export function Options({ choices }: { choices: readonly Choice[] }) {
  return (
    <>
      {choices.map((choice) => (
        <option key={choice.value} value={choice.value}>
          {choice.label}
        </option>
      ))}
    </>
  );
}

interface ToggleProps {
  id: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
  describedBy?: string;
  title?: string;
  children: ReactNode;
}

/** A checkbox and its label, side by side. */
export function Toggle({ id, checked, onChange, disabled, describedBy, title, children }: ToggleProps) {
  return (
    <div className="toggle">
      <input
        type="checkbox"
        id={id}
        checked={checked}
        disabled={disabled}
        aria-describedby={describedBy}
        onChange={(event) => onChange(event.target.checked)}
      />
      <label htmlFor={id} title={title}>
        {children}
      </label>
    </div>
  );
}

/** The sentence saying why the last try failed; nothing while there is none. */
export function FormError({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {error}
    </p>
  );
}

interface DialogActionsProps {
  onCancel: () => void;
  /** Without it the second button submits the dialog's form. */
  onConfirm?: () => void;
  /** While the request runs the second button is disabled. */
  busy?: boolean;
  kind?: "primary" | "danger";
  children: ReactNode;
}

/** A dialog's last row: Cancel, and the button that does what the dialog asks. */
export function DialogActions({ onCancel, onConfirm, busy = false, kind = "primary", children }: DialogActionsProps) {
  return (
    <div className="actions">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type={onConfirm ? "button" : "submit"} className={kind} disabled={busy} onClick={onConfirm}>
        {children}
      </button>
    </div>
  );
}
