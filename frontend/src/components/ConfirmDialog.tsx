// "Are you sure?" for the actions that cannot be undone (stop, delete).
import { DialogActions } from "./FormParts";
import { useDialog } from "./useDialog";

interface Props {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onCancel }: Props) {
  // Cancel, the first button, has the focus: Enter does not confirm by accident.
  const dialog = useDialog<HTMLDivElement>(onCancel, "button");
  return (
    <div className="backdrop">
      <div
        ref={dialog}
        className="modal small"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-text"
      >
        <h2 id="confirm-title">{title}</h2>
        <p id="confirm-text">{message}</p>
        <DialogActions onCancel={onCancel} onConfirm={onConfirm} kind="danger">
          {confirmLabel}
        </DialogActions>
      </div>
    </div>
  );
}
