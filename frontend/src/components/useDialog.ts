import { useEffect, useRef } from "react";

/**
 * While a dialog is open: its first control matching `first` has the focus and Escape cancels it.
 * Returns the ref for the dialog's outer element.
 */
export function useDialog<T extends HTMLElement>(onCancel: () => void, first: string) {
  const dialog = useRef<T>(null);
  useEffect(() => {
    dialog.current?.querySelector<HTMLElement>(first)?.focus();
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onCancel();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onCancel, first]);
  return dialog;
}
