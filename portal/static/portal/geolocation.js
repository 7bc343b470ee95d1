// Geofenced doors: ask the browser where the member is, then send the Open form with it.
// Everything else in the portal works without this file.
(function () {
  "use strict";
  function say(form, text, refused) {
    var status = form.querySelector(".location-status");
    status.textContent = text;
    status.className = "location-status" + (refused ? " refused" : " muted");
    status.setAttribute("role", refused ? "alert" : "status");
  }
  document.querySelectorAll("form[data-geofence]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();  // the position goes with the form; each press reads it afresh
      if (!navigator.geolocation) {
        say(form, "This browser cannot tell us where you are, so it cannot open this door.", true);
        return;
      }
      say(form, "Finding your location…", false);
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.latitude.value = position.coords.latitude.toFixed(6);
        form.elements.longitude.value = position.coords.longitude.toFixed(6);
        form.submit();
      }, function (error) {
        say(form, error.code === error.PERMISSION_DENIED
          ? "Location is off for this site, so we cannot tell how close you are. Allow location in your " +
            "browser's settings for this site, then press Open again."
          : "Your location could not be found. Try again in a moment.", true);
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
    });
  });
})();
